import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeOutcome, TranscriptStep } from '../../src/assistant/index.js';
import { type Harness, http, startHarness } from './harness.js';

/** Actions registered without `x-dingtalk-protocol`: the assistant calls `servers[0].url` over HTTP. */

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const APP = 'httpapp001';
let h: Harness;
let server: Server;
let base: string;
const seen: Seen[] = [];
let reply: (s: Seen, n: number) => { status: number; body: unknown } = () => ({ status: 200, body: {} });

const yaml = (serverUrl: string) => `openapi: 3.0.1
info: {title: HTTP skills, version: 1.0.0}
servers: [{url: '${serverUrl}'}]
paths:
  /hooks/customers/{id}:
    put:
      summary: 更新客户 Update a customer
      description: Renames a customer.
      operationId: renameCustomer
      x-dingtalk-delegated-scopes: [Contact.User.Read]
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: unionId, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: unionId}}}
        - {name: oauthAuthCode, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: oauthAuthCode}}}
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}, required: [name]}
`;

function steps(t: TranscriptStep[]): string[] {
  return t.map((s) => (s.step === 'invoke' ? `invoke#${s.attempt}` : s.step));
}

beforeAll(async () => {
  h = await startHarness();
  h.platform.registerApp({
    clientId: APP,
    clientSecret: 'http-secret',
    name: 'HTTP 应用',
    corpId: 'dingsandboxcorp',
    scopes: [],
    redirectUris: [],
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      const r = reply(s, seen.length);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/skills`;
  h.assistant.registerSkillsYaml(APP, yaml(base));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});

describe('actions over HTTP', () => {
  it('calls servers[0].url with the path parameter, repeated query values and the JSON body; card and re-run work the same', async () => {
    reply = (_s, n) =>
      n === 1
        ? { status: 400, body: { success: false, code: 'InvalidAuthentication', requestId: 'http-1' } }
        : { status: 200, body: { id: 'c 1', name: '新名字' } };
    // Registering the skills registered the assistant's callback as the app's redirect URI.
    expect(h.platform.repos.apps.get(APP)!.redirectUris).toEqual([`${h.url}/sandbox/assistant/oauth2`]);
    h.platform.authorize({ userId: 'zhangsan', clientId: APP, scopes: ['openid', 'Contact.User.Read'] });
    const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', {
      clientId: APP,
      operationId: 'renameCustomer',
      userId: 'zhangsan',
      params: { id: 'c 1', tags: 'vip, 华东', name: '新名字' },
      autoConsent: true,
    });
    expect(res.status).toBe(200);
    expect(steps(res.body.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    expect(res.body.transcript[1]).toMatchObject({ trigger: 'skill', status: 400, requestId: 'http-1' });
    expect(res.body.transcript[4]).toMatchObject({ body: { id: 'c 1', name: '新名字' } });
    expect(seen).toHaveLength(2);
    const [first, second] = seen as [Seen, Seen];
    expect(first.method).toBe('PUT');
    expect(first.url).toBe(
      '/skills/hooks/customers/c%201?tags=vip&tags=%E5%8D%8E%E4%B8%9C&unionId=union-zhangsan',
    );
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['x-ability-key']).toBe('renameCustomer');
    expect(JSON.parse(first.body)).toEqual({ name: '新名字' });
    expect(new URL(second.url, 'http://x').searchParams.get('oauthAuthCode')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('an unreachable server is a transport error step', async () => {
    h.assistant.registerSkillsYaml(APP, yaml('http://127.0.0.1:9/nothing'));
    const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', {
      clientId: APP,
      operationId: 'renameCustomer',
      userId: 'zhangsan',
      params: { id: 'x', name: 'y' },
    });
    expect(res.body.transcript.at(-1)).toMatchObject({ step: 'error', code: 'transportError' });
    expect((res.body.transcript.at(-1) as { message: string }).message).toContain(
      'calling http://127.0.0.1:9/nothing failed',
    );
    h.assistant.registerSkillsYaml(APP, yaml(base));
  });
});
