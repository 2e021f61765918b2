/**
 * Path parameters (`path: '/v1/actions/tickets/{id}'`) over every receiver, over the wire: the Graph
 * API topic with and without `x-ability-key` (DingTalk sends it), the legacy plugin topic, the HTTP
 * receiver, the sandbox assistant (`POST /sandbox/assistant/invoke`) and `dingtalk-skills invoke`.
 * Then the path attacks: an encoded `/` must not shift segments (route to another skill), dot segments
 * are refused with a 400, and the OpenAPI client refuses to send a `..` path segment to DingTalk.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import {
  defineApp,
  defineSkill,
  generateSpecYaml,
  type RunningApp,
  silentLogger,
  startApp,
} from '@dingtalk-skills/sdk';
import { createOpenApiClient } from '@dingtalk-skills/sdk/openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runCli } from '../e2e/dev-process.js';

const CLIENT_ID = 'dingsandboxapp001';
const CLIENT_SECRET = 'sandbox-secret';
const GRAPH = '/v1.0/graph/api/invoke';
const PLUGIN = '/v1.0/agi/plugins/callback';
const HTTP_SECRET = 'path-params-shared-secret';

const getTicket = defineSkill({
  operationId: 'getTicket',
  summary: 'Get a ticket',
  description: 'Reads one ticket by its id.',
  method: 'GET',
  path: '/v1/actions/tickets/{id}',
  input: z.object({ id: z.string() }),
  handler: async (input) => ({ skill: 'getTicket', id: input.id }),
});

const listMine = defineSkill({
  operationId: 'listMine',
  summary: 'My tickets',
  description: 'Lists my tickets.',
  method: 'GET',
  path: '/v1/actions/tickets/mine/list',
  input: z.object({}),
  handler: async () => ({ skill: 'listMine' }),
});

const commentTicket = defineSkill({
  operationId: 'commentTicket',
  summary: 'Comment on a ticket',
  description: 'Adds a comment to a ticket.',
  method: 'POST',
  path: '/v1/actions/tickets/{id}/comments',
  input: z.object({ id: z.string(), text: z.string().min(1) }),
  handler: async (input) => ({ skill: 'commentTicket', id: input.id, text: input.text }),
});

const app = defineApp({ name: 'tickets', skills: [getTicket, listMine, commentTicket] });

let sandbox: Sandbox;
let running: RunningApp;
let http: { server: Server; url: string };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function graph(method: string, uri: string, headers: Record<string, string> = {}, body?: unknown) {
  const result = await sandbox.gateway.invokeCallback({
    topic: GRAPH,
    data: {
      requestLine: { method, uri },
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? '' : JSON.stringify(body),
    },
    timeoutMs: 5_000,
  });
  if (result.status !== 'answered') throw new Error(`callback not answered: ${JSON.stringify(result)}`);
  const response = result.response as { statusLine: { code: number }; body: string };
  return { status: response.statusLine.code, body: JSON.parse(response.body) } as Answer;
}

/** A GET whose path goes out exactly as written (no URL normalization of dot segments). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  const path = url.slice(url.indexOf('/', 'http://'.length));
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const byKey = (key: string) => ({ 'x-ability-key': key });

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  running = await startApp(app, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
    http: { sharedSecret: HTTP_SECRET },
  });
  http = await running.skills.listenHttp();
  const res = await fetch(`${sandbox.url}/sandbox/skills`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: CLIENT_ID, yaml: generateSpecYaml(app.skills, { title: 'tickets' }) }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
});

afterAll(async () => {
  await new Promise<void>((r) => http.server.close(() => r()));
  await running.stop();
  await sandbox.close();
});

describe('path parameters from every receiver', () => {
  it('Graph API without x-ability-key (routed by method + path)', async () => {
    expect(await graph('GET', '/v1/actions/tickets/T1')).toEqual({
      status: 200,
      body: { skill: 'getTicket', id: 'T1' },
    });
  });

  it('Graph API with x-ability-key, as DingTalk sends it: the path parameter is still read', async () => {
    expect(await graph('GET', '/v1/actions/tickets/T1?userId=zhangsan', byKey('getTicket'))).toEqual({
      status: 200,
      body: { skill: 'getTicket', id: 'T1' },
    });
    const posted = await graph('POST', '/v1/actions/tickets/T9/comments', byKey('commentTicket'), {
      text: '已处理',
    });
    expect(posted).toEqual({ status: 200, body: { skill: 'commentTicket', id: 'T9', text: '已处理' } });
  });

  it('Graph API with x-ability-key: the path wins over a body field of the same name', async () => {
    const posted = await graph('POST', '/v1/actions/tickets/T9/comments', byKey('commentTicket'), {
      id: 'T-other',
      text: 'x',
    });
    expect(posted.body).toMatchObject({ id: 'T9' });
  });

  it('legacy AI plugin topic: the parameter arrives in data', async () => {
    const result = await sandbox.gateway.invokeCallback({
      topic: PLUGIN,
      data: {
        abilityKey: 'getTicket',
        data: { id: 'T1' },
        pluginId: 'AI-test',
        pluginVersion: '1.0.0',
        requestId: 'rq-plugin',
      },
      timeoutMs: 5_000,
    });
    expect(result).toMatchObject({
      status: 'answered',
      response: { requestId: 'rq-plugin', result: { skill: 'getTicket', id: 'T1' } },
    });
  });

  it('HTTP receiver, with and without x-ability-key', async () => {
    for (const extra of [{}, byKey('getTicket')]) {
      const res = await fetch(`${http.url}/v1/actions/tickets/T1`, {
        headers: { 'x-dingtalk-skills-secret': HTTP_SECRET, ...extra },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ skill: 'getTicket', id: 'T1' });
    }
  });

  it('the sandbox assistant (the page posts this): a value with "/" and a space stays one parameter', async () => {
    const res = await fetch(`${sandbox.url}/sandbox/assistant/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operationId: 'getTicket', userId: 'zhangsan', params: { id: 'T 1/2' } }),
    });
    expect(res.status).toBe(200);
    const outcome = (await res.json()) as { status: string; transcript: Record<string, unknown>[] };
    expect(outcome.status).toBe('done');
    expect(outcome.transcript.at(-1)).toMatchObject({
      step: 'result',
      status: 200,
      body: { skill: 'getTicket', id: 'T 1/2' },
    });
  });

  it('dingtalk-skills invoke getTicket --data \'{"id":"T1"}\'', async () => {
    const run = await runCli([
      'invoke',
      'getTicket',
      '--user',
      'zhangsan',
      '--data',
      '{"id":"T1"}',
      '--json',
      '--sandbox',
      sandbox.url,
    ]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const steps = JSON.parse(run.stdout) as Record<string, unknown>[];
    expect(steps.at(-1)).toMatchObject({ step: 'result', status: 200, body: { id: 'T1' } });
  });
});

describe('path attacks', () => {
  it('an encoded "/" stays inside its segment: mine%2Flist is the id "mine/list", not the listMine skill', async () => {
    expect(await graph('GET', '/v1/actions/tickets/mine%2Flist')).toEqual({
      status: 200,
      body: { skill: 'getTicket', id: 'mine/list' },
    });
    // The literal path still reaches listMine.
    expect((await graph('GET', '/v1/actions/tickets/mine/list')).body).toEqual({ skill: 'listMine' });
    const overHttp = await fetch(`${http.url}/v1/actions/tickets/mine%2Flist`, {
      headers: { 'x-dingtalk-skills-secret': HTTP_SECRET },
    });
    expect(await overHttp.json()).toEqual({ skill: 'getTicket', id: 'mine/list' });
  });

  it.each([
    ['..', '/v1/actions/tickets/..'],
    ['%2E%2E', '/v1/actions/tickets/%2E%2E'],
    ['.', '/v1/actions/tickets/.'],
    ['%2e', '/v1/actions/tickets/%2e'],
  ])(
    'a dot segment (%s) as a path parameter: 400 naming the parameter, with and without x-ability-key',
    async (_label, uri) => {
      for (const headers of [{}, byKey('getTicket')]) {
        const res = await graph('GET', uri, headers);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'InvalidParameter', fields: [{ field: 'id' }] });
      }
    },
  );

  it('a dot segment over HTTP (sent as is: fetch would normalize it away): 400', async () => {
    for (const path of ['/v1/actions/tickets/%2E%2E', '/v1/actions/tickets/..']) {
      const res = await rawGet(`${http.url}${path}`, { 'x-dingtalk-skills-secret': HTTP_SECRET });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ code: 'InvalidParameter', fields: [{ field: 'id' }] });
    }
  });

  it('the OpenAPI client refuses ".." or "." as an outgoing path segment, before any request', async () => {
    const seen: string[] = [];
    const fake: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"events":[]}');
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const client = createOpenApiClient({
      apiBase: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      logger: silentLogger(),
      rateLimit: false,
    });
    try {
      const api = client.asUser({ getToken: async () => 'token-not-used' });
      for (const bad of ['..', '.']) {
        await expect(api.calendar.listEvents(bad)).rejects.toMatchObject({
          code: 'ERR_INVALID_INPUT',
          message: expect.stringContaining('cannot be "." or ".."'),
        });
      }
      expect(seen).toEqual([]);
      // A dot inside a value is an ordinary character and goes out encoded in its segment.
      await api.calendar.listEvents('a..b');
      expect(seen).toEqual(['/v1.0/calendar/users/a..b/calendars/primary/events']);
    } finally {
      await client.close();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
