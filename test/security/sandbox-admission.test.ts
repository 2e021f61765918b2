/**
 * Who may drive the sandbox (issue 11 #7), over the wire with node:http (fetch cannot set `Host`):
 * - `Host` must be a name of this sandbox (127.0.0.1 / localhost / [::1] on its port, the bound host,
 *   `allowedHosts`), else 403 `forbiddenHost`: a DNS-rebinding page sends its own name.
 * - A state-changing request or a WebSocket handshake with a foreign `Origin` gets 403 `forbiddenOrigin`.
 * - A state-changing control API request needs a JSON/YAML content type or `x-sandbox-client`, else 415
 *   `sandboxClientRequired` (what a form or a "simple" cross-origin fetch sends never qualifies).
 * DingTalk-shaped routes keep working for SDK clients (no Origin) and the same-origin consent form.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One HTTP request with exactly these headers (Host included) and a JSON-or-text answer. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const SKILLS_YAML = `openapi: 3.0.1
info: {title: Injected, version: 1.0.0}
x-dingtalk-protocol: stream
paths:
  /v1/steal:
    get: {summary: Steal, description: Injected by another website., operationId: stealEverything}
`;

describe('sandbox admission over the wire', () => {
  let sandbox: Sandbox;
  let port: number;
  const json = { 'content-type': 'application/json' };
  const ackFault = async () => (await send(port, 'GET', '/sandbox/faults/acks')).body;
  const skillsCount = async () =>
    ((await send(port, 'GET', '/sandbox/skills')).body.skills as unknown[]).length;

  beforeAll(async () => {
    sandbox = await createSandbox({
      ephemeral: true,
      logger: silentLogger(),
      allowedHosts: ['sandbox.dev.example', 'proxy.example:9443'],
    });
    port = sandbox.port;
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('answers its own names on its port and the allow-list; refuses any other Host with 403 forbiddenHost', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      `sandbox.dev.example:${port}`,
      'proxy.example:9443',
    ])
      expect((await send(port, 'GET', '/sandbox/health', { host })).status, host).toBe(200);
    for (const host of [
      `evil.example:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `localhost:${port + 1}`,
      'localhost',
      `sandbox.dev.example:${port + 1}`,
      `proxy.example:${port}`,
      `127.0.0.1:${port}@evil.example`,
    ]) {
      const res = await send(port, 'GET', '/sandbox/health', { host });
      expect(res.status, host).toBe(403);
      expect(res.body.code, host).toBe('forbiddenHost');
    }
    // The DingTalk-shaped routes and the page are held to it too: rebinding reaches nothing.
    const token = await send(
      port,
      'POST',
      '/v1.0/oauth2/accessToken',
      { ...json, host: `rebind.example:${port}` },
      JSON.stringify({ appKey: SEED_APP.clientId, appSecret: SEED_APP.clientSecret }),
    );
    expect(token.status).toBe(403);
    expect(token.body.code).toBe('forbiddenHost');
    expect((await send(port, 'GET', '/', { host: `rebind.example:${port}` })).status).toBe(403);
    // No Host at all (HTTP/1.0 allows it): refused as well.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () =>
        socket.end('GET /sandbox/health HTTP/1.0\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403/);
    expect(raw).toContain('forbiddenHost');
  });

  it('refuses a state-changing request from another origin with 403 forbiddenOrigin; the state stays', async () => {
    expect((await send(port, 'POST', '/sandbox/faults/acks', json, '{"mode":"withhold"}')).status).toBe(200);
    for (const origin of [
      `http://127.0.0.1:${port + 1}`,
      `http://localhost:${port + 1}`,
      'https://evil.example',
      `http://evil.example:${port}`,
      'null',
    ]) {
      const res = await send(port, 'POST', '/sandbox/gateway/reset', { ...json, origin }, '{}');
      expect(res.status, origin).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbiddenOrigin' });
    }
    expect(await ackFault()).toEqual({ mode: 'withhold' });
    // The consent form refuses a cross-origin post too; the same origin gets past admission.
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const decide = (origin: string) =>
      send(port, 'POST', '/oauth2/auth/decide', { ...form, origin }, 'nonce=x&decision=approve');
    expect((await decide('https://evil.example')).body.code).toBe('forbiddenOrigin');
    const same = await decide(`http://127.0.0.1:${port}`);
    expect(same.status).toBe(400); // the unknown nonce: the consent flow's own answer
    expect(same.body.code).toBeUndefined();
    // Same origin (the page) may change state.
    const own = await send(
      port,
      'POST',
      '/sandbox/gateway/reset',
      { ...json, origin: `http://localhost:${port}`, host: `localhost:${port}` },
      '{}',
    );
    expect(own.status).toBe(200);
    expect(await ackFault()).toEqual({ mode: 'none' });
  });

  it('refuses body-less and text/plain control API changes with 415 sandboxClientRequired; the state stays', async () => {
    expect((await send(port, 'POST', '/sandbox/faults/acks', json, '{"mode":"withhold"}')).status).toBe(200);
    for (const path of ['/sandbox/gateway/reset', '/sandbox/users/zhangsan/expire-token', '/sandbox/reset']) {
      const res = await send(port, 'POST', path);
      expect(res.status, path).toBe(415);
      expect(res.body.code, path).toBe('sandboxClientRequired');
    }
    const before = await skillsCount();
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const res = await send(port, 'POST', '/sandbox/skills', { 'content-type': type }, SKILLS_YAML);
      expect(res.status, type).toBe(415);
      expect(res.body.code, type).toBe('sandboxClientRequired');
    }
    expect(await skillsCount()).toBe(before);
    expect(await ackFault()).toEqual({ mode: 'withhold' });
    // What scripts send still works: the client header (body-less), JSON, YAML.
    const reset = await send(port, 'POST', '/sandbox/gateway/reset', { 'x-sandbox-client': 'test' });
    expect(reset.status).toBe(200);
    expect(await ackFault()).toEqual({ mode: 'none' });
    const yaml = await send(
      port,
      'POST',
      '/sandbox/skills',
      { 'content-type': 'application/yaml' },
      SKILLS_YAML,
    );
    expect(yaml.status).toBe(200);
    expect((await send(port, 'POST', '/sandbox/gateway/reset', json, '{}')).status).toBe(200);
  });

  it('keeps the DingTalk-shaped routes open to SDK clients (no Origin, any content type)', async () => {
    const open = await send(
      port,
      'POST',
      '/v1.0/gateway/connections/open',
      { 'content-type': 'text/plain' },
      JSON.stringify({
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        subscriptions: [{ type: 'EVENT', topic: '*' }],
      }),
    );
    expect(open.status).toBe(200);
    expect(typeof open.body.ticket).toBe('string');
    const token = await send(
      port,
      'POST',
      '/v1.0/oauth2/accessToken',
      json,
      JSON.stringify({ appKey: SEED_APP.clientId, appSecret: SEED_APP.clientSecret }),
    );
    expect(token.status).toBe(200);
  });

  it('refuses a WebSocket handshake with a foreign Host or Origin before it redeems the ticket', async () => {
    const ticket = async () =>
      (
        await send(
          port,
          'POST',
          '/v1.0/gateway/connections/open',
          json,
          JSON.stringify({
            clientId: SEED_APP.clientId,
            clientSecret: SEED_APP.clientSecret,
            subscriptions: [{ type: 'EVENT', topic: '*' }],
          }),
        )
      ).body.ticket as string;
    const handshake = (t: string, headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/connect?ticket=${encodeURIComponent(t)}`, {
          headers,
        });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.on('error', () => resolve(-1));
      });
    const t = await ticket();
    expect(await handshake(t, { origin: 'https://evil.example' })).toBe(403);
    expect(await handshake(t, { host: `rebind.example:${port}` })).toBe(403);
    // The refused handshakes did not use the ticket up: the SDK's handshake (no Origin) still connects.
    expect(await handshake(t, {})).toBe(101);
  });
});
