import { connect } from 'node:net';
import { SandboxClock, SEED_APP } from '@dingtalk-skills/sandbox';
import { describe, expect, it } from 'vitest';
import { captureLogs, handshakeStatus, http, openConnection, RawClient, sandboxPerTest } from './support.js';

const { start } = sandboxPerTest();

describe('POST /v1.0/gateway/connections/open', () => {
  it('answers {endpoint, ticket} with a ws:// endpoint on the same port and a uuid ticket', async () => {
    const sandbox = await start();
    const res = await openConnection(sandbox);
    expect(res.status).toBe(200);
    expect(res.body.endpoint).toBe(`ws://127.0.0.1:${sandbox.port}/connect`);
    expect(res.body.ticket).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('answers 401 authFailed 鉴权失败 for an unknown clientId', async () => {
    const sandbox = await start();
    const res = await openConnection(sandbox, { clientId: 'dingnosuchapp' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ requestid: expect.any(String), code: 'authFailed', message: '鉴权失败' });
  });

  it('answers 401 authFailed for a wrong clientSecret, and never logs the secret', async () => {
    const logs = captureLogs();
    const sandbox = await start({ logger: logs.logger });
    const res = await openConnection(sandbox, { clientSecret: 'wrong-secret-value' });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('authFailed');
    const ok = await openConnection(sandbox);
    expect(ok.status).toBe(200);
    expect(logs.text()).toContain('authentication failed');
    expect(logs.text()).not.toContain('wrong-secret-value');
    expect(logs.text()).not.toContain(SEED_APP.clientSecret);
    expect(logs.text()).not.toContain(ok.body.ticket);
  });

  it.each([
    ['bad JSON', '{"clientId":', 'body'],
    ['no subscriptions', JSON.stringify({ clientId: 'a', clientSecret: 'b' }), 'subscriptions'],
    [
      'a subscription with a bad type',
      JSON.stringify({ clientId: 'a', clientSecret: 'b', subscriptions: [{ type: 'X', topic: '*' }] }),
      'subscriptions[0].type',
    ],
    ['no clientSecret', JSON.stringify({ clientId: 'a', subscriptions: [] }), 'clientSecret'],
    ['an empty body', '', 'body'],
  ])('answers 400 invalidParameter for %s, naming the field', async (_name, raw, field) => {
    const sandbox = await start();
    const res = await http<{ code: string; message: string; requestid: string }>(
      sandbox,
      'POST',
      '/v1.0/gateway/connections/open',
      undefined,
      raw,
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalidParameter');
    expect(res.body.message).toContain(field);
    expect(res.body.requestid).toEqual(expect.any(String));
  });

  it('accepts the Go SDK extras (null or a map) and SYSTEM subscriptions', async () => {
    const sandbox = await start();
    const res = await http(sandbox, 'POST', '/v1.0/gateway/connections/open', {
      clientId: SEED_APP.clientId,
      clientSecret: SEED_APP.clientSecret,
      subscriptions: [
        { type: 'SYSTEM', topic: 'ping' },
        { type: 'EVENT', topic: '*' },
      ],
      extras: null,
      localIp: '10.0.0.5,192.168.1.2',
    });
    expect(res.status).toBe(200);
  });
});

describe('WebSocket handshake on /connect', () => {
  it('opens with a fresh ticket and refuses its reuse with 401', async () => {
    const sandbox = await start();
    const { body } = await openConnection(sandbox);
    const url = `${body.endpoint}?ticket=${body.ticket}`;
    expect(await handshakeStatus(url)).toBe(101);
    expect(await handshakeStatus(url)).toBe(401);
  });

  it('refuses a missing or unknown ticket with 401', async () => {
    const sandbox = await start();
    expect(await handshakeStatus(`ws://127.0.0.1:${sandbox.port}/connect`)).toBe(401);
    expect(await handshakeStatus(`ws://127.0.0.1:${sandbox.port}/connect?ticket=nope`)).toBe(401);
  });

  it('refuses a ticket older than ticketTtlMs by the sandbox clock', async () => {
    const clock = new SandboxClock();
    const sandbox = await start({ clock, ticketTtlMs: 90_000 });
    const fresh = await openConnection(sandbox);
    const stale = await openConnection(sandbox);
    clock.advance(89_000);
    expect(await handshakeStatus(`${fresh.body.endpoint}?ticket=${fresh.body.ticket}`)).toBe(101);
    clock.advance(2_000);
    expect(await handshakeStatus(`${stale.body.endpoint}?ticket=${stale.body.ticket}`)).toBe(401);
  });

  it('answers a refused handshake with a complete HTTP 401 and a JSON body, and 404 on another path', async () => {
    const sandbox = await start();
    const text = await rawUpgrade(sandbox.port, '/connect?ticket=bad');
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'authFailed', message: 'unknown ticket' });
    expect(await handshakeStatus(`ws://127.0.0.1:${sandbox.port}/elsewhere`)).toBe(404);
  });

  it('lists the connection with its app, subscriptions, ua and localIp', async () => {
    const sandbox = await start();
    const client = await RawClient.connect(sandbox, { ua: 'my-sdk/2.0', localIp: '10.1.1.1' });
    const res = await http<{ connections: Array<Record<string, unknown>> }>(
      sandbox,
      'GET',
      '/sandbox/connections',
    );
    expect(res.body.connections).toHaveLength(1);
    expect(res.body.connections[0]).toMatchObject({
      appId: SEED_APP.clientId,
      ua: 'my-sdk/2.0',
      localIp: '10.1.1.1',
      state: 'open',
      subscriptions: [
        { type: 'EVENT', topic: '*' },
        { type: 'CALLBACK', topic: '/v1.0/graph/api/invoke' },
      ],
    });
    expect(typeof res.body.connections[0]?.connectedAt).toBe('number');
    await client.close();
  });
});

/** Sends a WebSocket upgrade request over a plain TCP socket and returns the whole answer. */
function rawUpgrade(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}
