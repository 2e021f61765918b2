/**
 * Answers to the platform never carry a stack trace (or the message of an internal error): every way a
 * call can fail is provoked over the wire, and every answer is checked. Failures: a handler throwing an
 * Error, a runtime TypeError, values that are not Errors, a handler that never returns, the OpenAPI
 * failing (5xx on a POST, 503 and 504 on every retry of a GET, the QPS limit), malformed requests, an
 * unknown path or ability; on a raw StreamClient, a callback handler and an event handler that throw and
 * a result that cannot be serialized; on the HTTP receiver, the same skills.
 */
import { StreamClient, silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  HTTP_SECRET,
  PLUGIN,
  startWireApp,
  type WireApp,
} from '../reliability/support/wire-app.js';

/** Frames of a stack trace: `at fn (file:line:col)`, `file.ts:12:3`, Node internals. */
const STACK = /\bat \S+ \(|\bat (?:file|node):|[\w/.-]+\.(?:ts|js|mjs|cjs):\d+(?::\d+)?|node:internal/;
const SECRET = 'hunter2';

let w: WireApp;
const answers: { what: string; text: string }[] = [];
const ctx = 'userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp';

function record(what: string, answer: unknown): void {
  answers.push({ what, text: typeof answer === 'string' ? answer : JSON.stringify(answer) });
}

async function fault(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${w.sandbox.url}/sandbox/faults/openapi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
}

beforeAll(async () => {
  w = await startWireApp();
  const code = w.sandbox.platform.authorize({
    userId: 'zhangsan',
    clientId: CLIENT_ID,
    scopes: ['openid', 'Todo.PersonalTodo.Write', 'Todo.Todo.Read'],
  }).code;
  expect((await w.graph('GET', `/v1/actions/crm/me?${ctx}&oauthAuthCode=${code}`)).status).toBe(200);
});

afterAll(async () => {
  await w.close();
});

describe('no stack trace in any answer', () => {
  it('Graph API: handler failures, OpenAPI failures, malformed and unknown requests', async () => {
    for (const what of ['error', 'typeError', 'string', 'object', 'undefined', 'number']) {
      const res = await w.graph('POST', '/v1/actions/test/throw', { what });
      expect(res.status).toBe(500);
      record(`throw ${what}`, res);
    }
    record('hang', await w.graph('POST', '/v1/actions/test/hang', {}));

    await fault({ path: '/v1.0/todo/', mode: 'status', status: 500, times: 1 });
    const post = await w.graph('POST', `/v1/actions/crm/todos?${ctx}`, { subject: 'x' });
    expect(post.status).toBe(500);
    record('OpenAPI 500 on a POST', post);
    for (const status of [503, 504]) {
      await fault({ path: '/v1.0/contact/', mode: 'status', status, times: 10 });
      const get = await w.graph('GET', `/v1/actions/crm/me?${ctx}`);
      expect(get.status).toBeGreaterThanOrEqual(500);
      record(`OpenAPI ${status} on every retry`, get);
      await fault({ mode: 'none' });
    }
    await fetch(`${w.sandbox.url}/sandbox/limits/openapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qpsLimit: 1 }),
    });
    const limited = await Promise.all([1, 2, 3, 4].map(() => w.graph('GET', `/v1/actions/crm/todos?${ctx}`)));
    for (const r of limited) record('QPS limit', r);
    await fetch(`${w.sandbox.url}/sandbox/limits/openapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qpsLimit: 0 }),
    });

    record('not JSON', await w.graphRaw('{'));
    record('no requestLine', await w.graphRaw('{}'));
    record('bad method', await w.graph('BREW', '/v1/actions/crm/me'));
    record('bad encoding', await w.graph('GET', '/v1/actions/crm/me?x=%E0%A4%A'));
    record(
      'bad body',
      await w.graphRaw(
        JSON.stringify({ requestLine: { method: 'POST', uri: '/v1/actions/crm/todos' }, body: '{' }),
      ),
    );
    record('schema', await w.graph('POST', `/v1/actions/crm/todos?${ctx}`, { subject: 7 }));
    record('unknown path', await w.graph('GET', '/v1/actions/none'));
  });

  it('legacy AI plugin: handler failures, unknown ability, malformed data', async () => {
    const plugin = (abilityKey: string, data: unknown) =>
      w.callback(
        PLUGIN,
        JSON.stringify({ abilityKey, data, pluginId: 'p', pluginVersion: '1', requestId: 'r' }),
      );
    record('plugin unknown ability', await plugin('nope', {}));
    record('plugin bad input', await plugin('addCustomer', { customName: 5 }));
    record('plugin not JSON', await w.callback(PLUGIN, 'not json'));
    record('plugin no token', await plugin('addCustomer', { customName: 'x', owner: 'y', ambition: '高' }));
  });

  it('a raw StreamClient: throwing callback and event handlers, a result that is not JSON', async () => {
    await fetch(`${w.sandbox.url}/sandbox/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'rawapp', clientSecret: 'raw-secret' }),
    });
    const client = new StreamClient({
      clientId: 'rawapp',
      clientSecret: 'raw-secret',
      apiBase: w.sandbox.url,
      logger: silentLogger(),
      localIp: '127.0.0.1',
    })
      .onCallback('/v1.0/test/throws', () => {
        throw new Error(`callback failed: ${SECRET}`);
      })
      .onCallback('/v1.0/test/bigint', () => ({ n: 10n }))
      .onEvent(() => {
        throw new Error(`event failed: ${SECRET}`);
      });
    await client.start();
    try {
      for (const topic of ['/v1.0/test/throws', '/v1.0/test/bigint']) {
        const result = await w.sandbox.gateway.invokeCallback({ clientId: 'rawapp', topic, data: {} });
        expect(result).toMatchObject({ status: 'error', code: 'clientError', ackCode: 500 });
        const ack = w.sandbox.gateway.deliveries().find((d) => d.messageId === result.messageId)?.ack;
        expect(ack?.message).toBe('internal error');
        record(`raw ${topic}`, ack);
      }
      const pushed = w.sandbox.gateway.pushEvent({ clientId: 'rawapp', eventType: 'x' });
      await expect
        .poll(() => w.sandbox.gateway.deliveries().find((d) => d.messageId === pushed.messageId)?.ack)
        .toBeDefined();
      const ack = w.sandbox.gateway.deliveries().find((d) => d.messageId === pushed.messageId)?.ack;
      expect(ack?.status).toBe('LATER');
      record('raw event handler throws', ack);
    } finally {
      await client.stop();
    }
  });

  it('the HTTP receiver: the same skills over HTTP', async () => {
    const http = await w.app.skills.listenHttp();
    try {
      const call = async (path: string, body: string) => {
        const res = await fetch(`${http.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-dingtalk-skills-secret': HTTP_SECRET },
          body,
        });
        return `${res.status} ${await res.text()}`;
      };
      for (const what of ['error', 'typeError', 'string'])
        record(`http throw ${what}`, await call('/v1/actions/test/throw', JSON.stringify({ what })));
      record('http bad JSON', await call('/v1/actions/crm/todos', '{'));
      record('http unknown', await call('/v1/actions/none', '{}'));
    } finally {
      await new Promise<void>((r) => http.server.close(() => r()));
    }
  });

  it('every answer above is free of stack frames and of the internal error message', () => {
    expect(answers.length).toBeGreaterThan(30);
    const withStack = answers.filter((a) => STACK.test(a.text));
    expect(withStack).toEqual([]);
    const withSecret = answers.filter((a) => a.text.includes(SECRET));
    expect(withSecret).toEqual([]);
    // The app logged the errors (with their stacks) for whoever operates it.
    expect(w.logs.all()).toMatch(/at .*\.ts:\d+/);
    // The pattern does recognize a stack trace.
    expect(STACK.test(new Error('x').stack ?? '')).toBe(true);
  });
});
