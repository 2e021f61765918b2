/**
 * The HTTP receiver under attack, over real sockets (issue 11 #1 and #16):
 * - fail closed: skills that act as the user are never served without authentication; an explicit
 *   opt-out for local testing is warned about on every start; a shared secret is checked;
 * - without authentication, a request cannot name a user (`?unionId=union-lisi` is ignored);
 * - an oversized body is answered 413 without reading the rest; a request whose headers never finish
 *   is closed by the headers timeout.
 */
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import {
  createAppRuntime,
  createHttpHandler,
  defineApp,
  defineSkill,
  MemoryStateStore,
  type RunningApp,
  StateTokenStore,
  silentLogger,
  startApp,
  TokenCipher,
  type TokenStore,
} from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CaptureLogger } from '../../packages/sdk/test/support/capture-logger.js';

const CLIENT_ID = 'dingsandboxapp001';
const CLIENT_SECRET = 'sandbox-secret';
const SECRET = 'a-long-enough-shared-secret';
const INSECURE = 'none-insecure-local-testing' as const;

const me = defineSkill({
  operationId: 'me',
  summary: 'Me',
  description: 'The profile, as the user.',
  method: 'GET',
  path: '/v1/actions/crm/me',
  input: z.object({}),
  scopes: ['Contact.User.Read'],
  handler: async (_input, ctx) => {
    const profile = await ctx.userApi.contact.me();
    return { name: profile.nick, unionId: profile.unionId };
  },
});

/** No scopes declared, but uses the user's API lazily: still must not act as a user named by anyone. */
const sneaky = defineSkill({
  operationId: 'sneaky',
  summary: 'Sneaky',
  description: 'Reads the profile without declaring a scope.',
  method: 'GET',
  path: '/v1/actions/crm/sneaky',
  input: z.object({}),
  handler: async (_input, ctx) => ({
    unionId: ctx.user.unionId ?? null,
    name: (await ctx.userApi.contact.me()).nick,
  }),
});

const echo = defineSkill({
  operationId: 'echo',
  summary: 'Echo',
  description: 'Echoes.',
  path: '/v1/actions/echo',
  input: z.object({ text: z.string() }),
  handler: async (input) => ({ text: input.text }),
});

let sandbox: Sandbox;
let store: TokenStore;
const logs = new CaptureLogger({ level: 'debug', secrets: [CLIENT_SECRET, SECRET] });

function runtime(skills: Parameters<typeof defineApp>[0]['skills'], http?: Record<string, unknown>) {
  return createAppRuntime(defineApp({ name: 'http attack', skills }), {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: sandbox.url,
    logger: logs.logger,
    tokenStore: store,
    now: () => sandbox.context.clock.now(),
    ...(http ? { http } : {}),
  });
}

async function close(server: { close(cb: () => void): void; closeAllConnections?(): void }) {
  server.closeAllConnections?.();
  await new Promise<void>((r) => server.close(() => r()));
}

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  store = new StateTokenStore({
    store: new MemoryStateStore({ logger: silentLogger() }),
    logger: silentLogger(),
    cipher: new TokenCipher(TokenCipher.generateKey()),
  });
  // lisi authorized the app once (through a skill's card): her token is stored.
  const code = sandbox.platform.authorize({ userId: 'lisi', clientId: CLIENT_ID, scopes: ['openid'] }).code;
  const setup = runtime([echo]);
  await setup.tokens.resolve({ authCode: code, unionId: 'union-lisi' });
  await setup.openapi.close();
});

afterAll(async () => {
  await sandbox.close();
});

describe('authentication: fail closed', () => {
  it('a skill acting as the user is not served without authentication: listenHttp rejects with ERR_CONFIG naming it', async () => {
    const rt = runtime([me, echo]);
    await expect(rt.skills.listenHttp()).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining('me acts as the user'),
    });
    expect(() => rt.skills.httpHandler()).toThrow(/needs authentication/);
    await rt.openapi.close();
  });

  it('the explicit opt-out serves (the old attack works: it is for a laptop) and warns on every start', async () => {
    const rt = runtime([me], { auth: INSECURE });
    const mark = logs.entries.length;
    const first = await rt.skills.listenHttp();
    const second = await rt.skills.listenHttp();
    try {
      const warnings = logs.entries
        .slice(mark)
        .filter((e) => e.level === 40 && String(e.msg).includes('WITHOUT authentication'));
      expect(warnings).toHaveLength(2);
      const res = await fetch(`${first.url}/v1/actions/crm/me?unionId=union-lisi`);
      expect(await res.json()).toEqual({ name: '李四', unionId: 'union-lisi' });
    } finally {
      await close(first.server);
      await close(second.server);
      await rt.openapi.close();
    }
  });

  it('a shared secret: missing or wrong is 401 before anything runs; right is served; a short one refuses to start', async () => {
    const rt = runtime([me], { sharedSecret: SECRET });
    const { server, url } = await rt.skills.listenHttp();
    try {
      const attack = await fetch(`${url}/v1/actions/crm/me?unionId=union-lisi`);
      expect(attack.status).toBe(401);
      expect(await attack.json()).toMatchObject({ success: false, code: 'Unauthorized' });
      const wrong = await fetch(`${url}/v1/actions/crm/me?unionId=union-lisi`, {
        headers: { 'x-dingtalk-skills-secret': `${SECRET.slice(0, -1)}x` },
      });
      expect(wrong.status).toBe(401);
      const platform = await fetch(`${url}/v1/actions/crm/me?unionId=union-lisi`, {
        headers: { 'x-dingtalk-skills-secret': SECRET },
      });
      expect(await platform.json()).toEqual({ name: '李四', unionId: 'union-lisi' });
    } finally {
      await close(server);
      await rt.openapi.close();
    }
    const short = runtime([me], { sharedSecret: 'short' });
    await expect(short.skills.listenHttp()).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    await short.openapi.close();
  });

  it('createHttpHandler on a plain http server fails closed too: without a secret no request acts as a user', async () => {
    const rt = runtime([me]);
    const server = createServer(createHttpHandler((inv) => rt.skills.invoke(inv).then((r) => r.outcome)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/actions/crm/me?unionId=union-lisi`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'InvalidAuthentication' });
      // With the secret (or the explicit opt-out) in its options it trusts what it is given.
      const trusted = createServer(
        createHttpHandler((inv) => rt.skills.invoke(inv).then((r) => r.outcome), { sharedSecret: SECRET }),
      );
      await new Promise<void>((r) => trusted.listen(0, '127.0.0.1', () => r()));
      try {
        const url = `http://127.0.0.1:${(trusted.address() as AddressInfo).port}/v1/actions/crm/me?unionId=union-lisi`;
        expect((await fetch(url)).status).toBe(401);
        const ok = await fetch(url, { headers: { 'x-dingtalk-skills-secret': SECRET } });
        expect(await ok.json()).toEqual({ name: '李四', unionId: 'union-lisi' });
      } finally {
        await close(trusted);
      }
    } finally {
      await close(server);
      await rt.openapi.close();
    }
  });

  it('without authentication, a skill that declares no scope cannot be made to act as a user named in the query', async () => {
    const rt = runtime([sneaky, echo]);
    const { server, url } = await rt.skills.listenHttp();
    try {
      const res = await fetch(`${url}/v1/actions/crm/sneaky?unionId=union-lisi&userId=lisi`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'InvalidAuthentication' });
      const ok = await fetch(`${url}/v1/actions/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"text":"hi"}',
      });
      expect(await ok.json()).toEqual({ text: 'hi' });
    } finally {
      await close(server);
      await rt.openapi.close();
    }
  });
});

/** A raw TCP client: what it received, and whether the server closed the connection. */
function rawClient(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
  });
  socket.on('error', () => undefined); // a reset after the answer is expected here
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, received: () => text, closed };
}

/** Waits (bounded) until `check` holds; rejects naming what it waited for. */
async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('body limit and timeouts, over a raw socket', () => {
  let running: RunningApp;
  let port: number;
  let server: { close(cb: () => void): void; closeAllConnections(): void };

  beforeAll(async () => {
    running = await startApp(defineApp({ name: 'limits', skills: [echo] }), {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiBase: sandbox.url,
      logger: silentLogger(),
      http: { sharedSecret: SECRET, maxBodyBytes: 1024, headersTimeoutMs: 1_000 },
    });
    const listening = await running.skills.listenHttp();
    server = listening.server;
    port = Number(new URL(listening.url).port);
  });

  afterAll(async () => {
    await close(server);
    await running.stop();
  });

  const head = (extra: string) =>
    `POST /v1/actions/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nx-dingtalk-skills-secret: ${SECRET}\r\ncontent-type: application/json\r\n${extra}\r\n`;

  it('a declared content-length over the limit: 413 and close, with only a sliver of the body sent', async () => {
    const c = rawClient(port);
    c.socket.write(head('content-length: 50000000\r\n'));
    c.socket.write('x'.repeat(4096));
    await until(() => c.received().includes('\r\n\r\n'), 'the 413 answer');
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.received().toLowerCase()).toContain('connection: close');
    // The server closes the connection itself: the client never sends the other ~50 MB.
    await c.closed;
  });

  it('a chunked body that grows past the limit: 413 while the client is still sending, reading stops', async () => {
    const c = rawClient(port);
    c.socket.write(head('transfer-encoding: chunked\r\n'));
    const chunk = `1000\r\n${'x'.repeat(0x1000)}\r\n`;
    let sent = 0;
    // Bounded: 4 MiB at most, far more than the 1 KiB limit; the answer must come long before.
    while (!c.received().includes('\r\n\r\n') && sent < 4 * 1024 * 1024 && !c.socket.destroyed) {
      c.socket.write(chunk);
      sent += 0x1000;
      await new Promise((r) => setImmediate(r));
    }
    await until(() => c.received().includes('\r\n\r\n'), 'the 413 answer');
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeLessThan(4 * 1024 * 1024);
    c.socket.destroy();
  });

  it('headers that never finish: the connection is closed by the headers timeout', async () => {
    const c = rawClient(port);
    c.socket.write('GET /v1/actions/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await c.closed;
    // Node answers 408 before closing (or just closes); either way the slot is freed.
    expect(c.received() === '' || /^HTTP\/1\.1 408 /.test(c.received())).toBe(true);
  }, 20_000);

  it('the server still answers after all that', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/actions/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dingtalk-skills-secret': SECRET },
      body: '{"text":"still here"}',
    });
    expect(await res.json()).toEqual({ text: 'still here' });
  });
});
