/**
 * The catalogue of bad input, over the wire: the sandbox's gateway sends each bad frame or request to a
 * real app (StreamClient + skills app, the example CRM's skills) and each test states the exact answer
 * the protocol defines (an ack code and message, a Graph response, or "dropped" with the log line that
 * says why), then checks that the app still serves. One test per entry; read top to bottom as the table.
 *
 * Unit-level versions of some entries live in packages/sdk/test/stream/malformed-frames.test.ts and
 * packages/sdk/test/skills/runner.test.ts; this file is the readable catalogue of what the platform sees.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, HANG_TIMEOUT_MS, PLUGIN, startWireApp, type WireApp } from './support/wire-app.js';

let w: WireApp;
let seq = 0;

/** A frame as the gateway sends it; `over` replaces top-level fields, `headers` adds or replaces headers. */
function frame(over: Record<string, unknown> = {}, headers: Record<string, unknown> = {}): string {
  const messageId = `cat-${++seq}`;
  return JSON.stringify({
    specVersion: '1.0',
    type: 'EVENT',
    headers: {
      topic: '*',
      messageId,
      contentType: 'application/json',
      time: String(Date.now()),
      eventId: `cat-evt-${seq}`,
      eventType: 'catalogue',
      ...headers,
    },
    data: '{"a":1}',
    ...over,
  });
}

/** The Graph body of a 400 for a request the skills app could not decode. */
const decodeFailure = (field: string, expected: string, got: string, requestId: string) => ({
  success: false,
  code: 'InvalidParameter',
  message: `${field}: expected ${expected}, got ${got}`,
  requestId,
  fields: [{ field, message: `expected ${expected}` }],
});

const json = { 'content-type': 'application/json' };
const ctx = 'userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp';

/** Asserts that a frame got no answer and that exactly one warning says it was dropped. */
async function expectDropped(text: string, field: string): Promise<void> {
  const mark = w.logMark();
  const since = w.sandbox.gateway.deliveries().at(-1)?.seq ?? 0;
  const record = await w.sendRaw(text);
  expect(record.ack).toBeUndefined();
  expect(w.unmatchedSince(since)).toEqual([]);
  const warnings = w
    .logsSince(mark)
    .filter((e) => e.msg === 'malformed frame dropped (no message id to answer)');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ level: 40, field });
}

/** Asserts the ack the app sent for a frame (code and message), and one warning naming the message. */
async function expectAck(text: string, code: number, message: string): Promise<void> {
  const mark = w.logMark();
  const record = await w.sendRaw(text);
  expect(record.ack).toMatchObject({ code, message });
  const messageId = (JSON.parse(text) as { headers: { messageId: string } }).headers.messageId;
  const logged = w.logsSince(mark).filter((e) => e.messageId === messageId && e.level === 40);
  expect(logged).toHaveLength(1);
}

beforeAll(async () => {
  w = await startWireApp();
  // 张三 has consented and the app holds his token (what the first real invocation leaves behind).
  const code = w.sandbox.platform.authorize({
    userId: 'zhangsan',
    clientId: CLIENT_ID,
    scopes: ['openid', 'Todo.PersonalTodo.Write'],
  }).code;
  const first = await w.graph('GET', `/v1/actions/crm/me?${ctx}&oauthAuthCode=${code}`);
  expect(first.status).toBe(200);
});

afterEach(async () => {
  // Whatever came before, the app still handles the next message.
  await w.stillServing();
});

afterAll(async () => {
  await w.close();
});

describe('frames', () => {
  it('not JSON: dropped, logged (no message id to answer)', async () => {
    await expectDropped('{"specVersion":"1.0","type":"EVENT","headers":{"messageId":"x"', 'frame');
  });

  it('JSON but not an object (array, string, number, null): dropped, logged', async () => {
    for (const text of ['[1,2,3]', '"EVENT"', '42', 'null']) await expectDropped(text, 'frame');
  });

  it('missing headers: dropped, logged', async () => {
    await expectDropped(JSON.stringify({ specVersion: '1.0', type: 'EVENT', data: '{}' }), 'headers');
  });

  it('headers without a messageId: dropped, logged', async () => {
    await expectDropped(frame({}, { messageId: undefined }), 'headers.messageId');
  });

  it('numeric header values (messageId, time): accepted as strings; the ack echoes messageId "12345"', async () => {
    const since = w.sandbox.gateway.deliveries().at(-1)?.seq ?? 0;
    const before = w.handled.length;
    await w.sendRaw(frame({}, { messageId: 12345, time: 1_700_000_000_000, eventId: 'numeric-headers' }));
    // The gateway tracks string ids only, so the answer to 12345 shows up as an unmatched upstream message.
    await expect.poll(() => w.unmatchedSince(since).map((d) => d.messageId)).toEqual(['12345']);
    expect(w.handled.slice(before)).toEqual(['numeric-headers']);
  });

  it('a header value that is an object: 400 naming the header', async () => {
    await expectAck(frame({}, { time: { at: 1 } }), 400, 'headers.time: expected a string, got an object');
  });

  it('unknown type: 400 naming the types', async () => {
    await expectAck(
      frame({ type: 'PUSH' }),
      400,
      'type: expected one of SYSTEM, EVENT, CALLBACK, got "PUSH"',
    );
  });

  it('CALLBACK on an unknown topic: 404 "topic not handled"', async () => {
    await expectAck(
      frame({ type: 'CALLBACK' }, { topic: '/v1.0/unknown/topic' }),
      404,
      'topic not handled: /v1.0/unknown/topic',
    );
  });

  it('SYSTEM frame on an unknown topic: ignored (no answer), logged at debug', async () => {
    const mark = w.logMark();
    const record = await w.sendRaw(frame({ type: 'SYSTEM', data: '{}' }, { topic: 'reboot' }));
    expect(record.ack).toBeUndefined();
    expect(w.logsSince(mark).filter((e) => e.msg === 'unknown SYSTEM topic ignored')).toMatchObject([
      { level: 20, topic: 'reboot' },
    ]);
  });

  it('data not a string: 400', async () => {
    await expectAck(frame({ data: { a: 1 } }), 400, 'data: expected a string holding JSON, got an object');
  });

  it('EVENT data not JSON: 400', async () => {
    await expectAck(frame({ data: 'not json' }), 400, 'data: expected valid JSON text, got "not json"');
  });

  it('EVENT data JSON but not an object: 400', async () => {
    await expectAck(frame({ data: '[1,2]' }), 400, 'data: expected a JSON object, got an array');
  });

  it('frame over 256 KiB: dropped, logged with its size (the platform redelivers or gives up)', async () => {
    const big = frame({ data: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }) });
    await expectDropped(big, 'frame');
    const size = Buffer.byteLength(big);
    expect(w.logs.find('malformed frame dropped').at(-1)?.reason).toBe(
      `frame: expected at most 262144 bytes, got "${size} bytes"`,
    );
  });

  it('an oversized topic (10 KB) on a CALLBACK: 404, the topic cut to 200 characters in answer and log', async () => {
    const topic = `/v1.0/${'t'.repeat(10_000)}`;
    await expectAck(
      frame({ type: 'CALLBACK' }, { topic }),
      404,
      `topic not handled: ${topic.slice(0, 200)}...`,
    );
  });
});

describe('Graph API requests (topic /v1.0/graph/api/invoke)', () => {
  it('data not JSON: 400 InvalidParameter naming data', async () => {
    const res = await w.graphRaw('{"requestLine":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      decodeFailure('data', 'valid JSON text', '"{\\"requestLine\\":"', res.messageId),
    );
  });

  it('data JSON but not an object: 400 naming data', async () => {
    const res = await w.graphRaw('["GET","/v1/actions/crm/me"]');
    expect(res.body).toEqual(decodeFailure('data', 'a JSON object', 'an array', res.messageId));
  });

  it('no requestLine: 400 naming data.requestLine', async () => {
    const res = await w.graphRaw(JSON.stringify({ headers: json, body: '' }));
    expect(res).toMatchObject({ status: 400, reasonPhrase: 'BAD REQUEST', headers: json });
    expect(res.body).toEqual(
      decodeFailure('data.requestLine', 'an object {method, uri}', 'nothing', res.messageId),
    );
  });

  it('unknown method: 400 naming data.requestLine.method', async () => {
    const res = await w.graph('TRACE', `/v1/actions/crm/me?${ctx}`);
    expect(res.body).toEqual(
      decodeFailure(
        'data.requestLine.method',
        'one of GET, POST, PUT, DELETE, PATCH',
        '"TRACE"',
        res.messageId,
      ),
    );
  });

  it('malformed %-encoding in the query: 400 naming data.requestLine.uri', async () => {
    const res = await w.graph('GET', '/v1/actions/crm/me?userId=%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      decodeFailure(
        'data.requestLine.uri',
        'validly %-encoded query parameters',
        '"userId=%E0%A4%A"',
        res.messageId,
      ),
    );
  });

  it('malformed %-encoding in the path: 400 naming data.requestLine.uri', async () => {
    const res = await w.graph('GET', '/v1/actions/crm/%zz');
    expect(res.body).toEqual(
      decodeFailure(
        'data.requestLine.uri',
        'a validly %-encoded path',
        '"/v1/actions/crm/%zz"',
        res.messageId,
      ),
    );
  });

  it('body not JSON: 400 naming data.body', async () => {
    const res = await w.graphRaw(
      JSON.stringify({
        requestLine: { method: 'POST', uri: '/v1/actions/crm/todos' },
        headers: json,
        body: '{"subject":',
      }),
    );
    expect(res.body).toEqual(
      decodeFailure('data.body', 'valid JSON text', '"{\\"subject\\":"', res.messageId),
    );
  });

  it('body JSON but not an object: 400 naming data.body', async () => {
    const res = await w.graphRaw(
      JSON.stringify({
        requestLine: { method: 'POST', uri: '/v1/actions/crm/todos' },
        headers: json,
        body: '"x"',
      }),
    );
    expect(res.body).toEqual(decodeFailure('data.body', 'a JSON object', '"x"', res.messageId));
  });

  it('unknown path: 404 NotFound', async () => {
    const res = await w.graph('GET', '/v1/actions/nothing-here', undefined, { 'x-request-id': 'rq-404' });
    expect(res).toMatchObject({
      status: 404,
      body: {
        success: false,
        code: 'NotFound',
        message: 'no skill for GET /v1/actions/nothing-here',
        requestId: 'rq-404',
      },
    });
  });

  it('schema violations: 400 InvalidParameter naming every failing field; the handler does not run', async () => {
    const todos = async () => {
      const res = await fetch(`${w.sandbox.url}/sandbox/users/zhangsan/data`);
      return ((await res.json()) as { todos: unknown[] }).todos.length;
    };
    const todosBefore = await todos();
    const res = await w.graph(
      'POST',
      `/v1/actions/crm/todos?${ctx}`,
      { subject: '', dueTime: -5, description: 7 },
      { 'x-request-id': 'rq-schema' },
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      success: false,
      code: 'InvalidParameter',
      message:
        'invalid input: subject: Too small: expected string to have >=1 characters; description: Invalid input: expected string, received number; dueTime: Too small: expected number to be >0',
      requestId: 'rq-schema',
      fields: [
        { field: 'subject', message: 'Too small: expected string to have >=1 characters' },
        { field: 'description', message: 'Invalid input: expected string, received number' },
        { field: 'dueTime', message: 'Too small: expected number to be >0' },
      ],
    });
    expect(await todos()).toBe(todosBefore);
  });

  it('oversized strings: a 300-character subject (max 256) is 400 naming subject; a 200 KB one too', async () => {
    for (const length of [300, 200_000]) {
      const res = await w.graph(
        'POST',
        `/v1/actions/crm/todos?${ctx}`,
        { subject: 's'.repeat(length) },
        { 'x-request-id': `rq-big-${length}` },
      );
      expect(res).toMatchObject({
        status: 400,
        body: {
          code: 'InvalidParameter',
          requestId: `rq-big-${length}`,
          fields: [{ field: 'subject', message: 'Too big: expected string to have <=256 characters' }],
        },
      });
    }
  });

  it('token in the wrong place (query string, request header): not used; the authorization card', async () => {
    // 李四 consented, and the assistant holds a valid token for him; the app has none stored.
    w.sandbox.platform.authorize({ userId: 'lisi', clientId: CLIENT_ID, scopes: ['openid'] });
    const { accessToken } = w.sandbox.platform.issueUserTokens('lisi', CLIENT_ID);
    const lisi = 'userId=lisi&unionId=union-lisi&corpId=dingsandboxcorp';
    const mark = w.logMark();
    const inQuery = await w.graph('GET', `/v1/actions/crm/me?${lisi}&accessToken=${accessToken}`, undefined, {
      'x-request-id': 'rq-q',
    });
    const inHeader = await w.graph('GET', `/v1/actions/crm/me?${lisi}`, undefined, {
      'x-request-id': 'rq-h',
      'x-acs-dingtalk-access-token': accessToken,
    });
    expect([inQuery, inHeader].map((r) => [r.status, r.body])).toEqual([
      [400, { success: false, code: 'InvalidAuthentication', requestId: 'rq-q' }],
      [400, { success: false, code: 'InvalidAuthentication', requestId: 'rq-h' }],
    ]);
    expect(JSON.stringify(w.logsSince(mark))).not.toContain(accessToken);
  });

  it('handler throws a non-Error (string, object, undefined, number): 500 InternalError, nothing of it in the answer', async () => {
    for (const what of ['string', 'object', 'undefined', 'number']) {
      const mark = w.logMark();
      const res = await w.graph('POST', '/v1/actions/test/throw', { what }, { 'x-request-id': `rq-${what}` });
      expect(res).toMatchObject({
        status: 500,
        body: { success: false, code: 'InternalError', message: 'internal error', requestId: `rq-${what}` },
      });
      expect(JSON.stringify(res.body)).not.toContain('hunter2');
      // The log line says what was thrown, with the request id, for whoever operates the app.
      expect(w.logsSince(mark).filter((e) => e.msg === 'skill handler threw')).toMatchObject([
        { level: 50, requestId: `rq-${what}` },
      ]);
    }
  });

  it('handler never returns: 504 HandlerTimeout at its deadline, long before the platform gives up', async () => {
    const started = Date.now();
    const res = await w.graph('POST', '/v1/actions/test/hang', {}, { 'x-request-id': 'rq-hang' });
    expect(res).toMatchObject({
      status: 504,
      body: { success: false, code: 'HandlerTimeout', requestId: 'rq-hang' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS - 5);
  });
});

describe('legacy AI plugin requests (topic /v1.0/agi/plugins/callback)', () => {
  it('data not JSON: the failure structure with InvalidParameter and the frame id', async () => {
    const result = await w.sandbox.gateway.invokeCallback({
      clientId: CLIENT_ID,
      topic: PLUGIN,
      rawData: 'nope',
    });
    expect(result.status).toBe('answered');
    if (result.status !== 'answered') return;
    expect(result.response).toEqual({
      success: false,
      code: 'InvalidParameter',
      message: 'data: expected valid JSON text, got "nope"',
      requestId: result.messageId,
    });
  });

  it('token at the top level instead of data.accessToken: not used; the authorization card', async () => {
    w.sandbox.platform.authorize({
      userId: 'lisi',
      clientId: CLIENT_ID,
      scopes: ['openid', 'Todo.PersonalTodo.Write'],
    });
    const { accessToken } = w.sandbox.platform.issueUserTokens('lisi', CLIENT_ID);
    const answer = await w.callback(
      PLUGIN,
      JSON.stringify({
        abilityKey: 'addCustomer',
        accessToken,
        data: { customName: 'x', owner: 'lisi', ambition: '高' },
        pluginId: 'p',
        pluginVersion: '1',
        requestId: 'rq-plugin',
      }),
    );
    expect(answer).toEqual({ success: false, code: 'InvalidAuthentication', requestId: 'rq-plugin' });
  });
});

describe('the catalogue as a whole', () => {
  it('the app sent nothing the gateway could not read, and kept one connection throughout', () => {
    const upstream = w.sandbox.gateway.deliveries().filter((d) => d.type === 'UPSTREAM');
    // The only unmatched upstream message is the answer to the numeric messageId 12345.
    expect(upstream.map((d) => d.messageId)).toEqual(['12345']);
    expect(upstream.every((d) => d.outcome === 'unmatched')).toBe(true);
    expect(w.app.stream.status().connections).toHaveLength(1);
    expect(
      w.sandbox.gateway.listConnections().filter((c) => c.appId === CLIENT_ID && c.state === 'open'),
    ).toHaveLength(1);
    expect(w.sandbox.gateway.listConnections({ includeClosed: true })).toHaveLength(1);
  });
});
