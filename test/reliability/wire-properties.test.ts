/**
 * Property-based tests over the wire: arbitrary and mutated frames and Graph requests, sent by the
 * sandbox's gateway as raw WebSocket messages to a real StreamClient + skills app, always get the answer
 * the protocol defines (or are dropped and logged), and the app keeps working on the same connection.
 *
 * The expected answer comes from `expectedAnswer`, which restates the frame rules of
 * shared/reference/stream-protocol.md and docs/decisions.md independently of the SDK's codec (the
 * codec's own properties are in packages/sdk/test/protocol/properties.test.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/sdk/test/support/wait.js';
import { GRAPH, PLUGIN, startWireApp, type WireApp } from './support/wire-app.js';

/** What the app must do with a message. */
type Expected =
  /** No answer; `log` is the message of the line that says why (malformed: warn; unknown SYSTEM topic: debug). */
  | { kind: 'none'; log: string }
  | { kind: 'ack'; messageId: string; code: number; field?: string; echo?: string };

const MAX_FRAME_BYTES = 256 * 1024;
const DROPPED: Expected = { kind: 'none', log: 'malformed frame dropped (no message id to answer)' };
const TYPES = ['SYSTEM', 'EVENT', 'CALLBACK'];
const HANDLED_TOPICS = [GRAPH, PLUGIN];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The protocol's answer to one WebSocket text message, from the rules (not from the SDK's codec). */
function expectedAnswer(text: string): Expected {
  if (Buffer.byteLength(text) > MAX_FRAME_BYTES) return DROPPED;
  const parsed = parseJson(text);
  if (!parsed.ok || !isObject(parsed.value)) return DROPPED;
  const doc = parsed.value;
  const headers = doc.headers;
  if (!isObject(headers)) return DROPPED;
  const rawId = headers.messageId;
  // docs/decisions.md: numbers and booleans in headers are accepted as strings (messageId included).
  const id =
    typeof rawId === 'string' && rawId !== ''
      ? rawId
      : (typeof rawId === 'number' && Number.isFinite(rawId)) || typeof rawId === 'boolean'
        ? String(rawId)
        : undefined;
  // Header values: strings; numbers and booleans are taken as strings; null is as if absent.
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v === 'string') values[k] = v;
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') values[k] = String(v);
    else if (v !== null && v !== undefined)
      return id === undefined ? DROPPED : { kind: 'ack', messageId: id, code: 400, field: `headers.${k}` };
  }
  if (id === undefined) return DROPPED;
  const bad = (field: string): Expected => ({ kind: 'ack', messageId: id, code: 400, field });
  const type = doc.type;
  if (typeof type !== 'string' || !TYPES.includes(type)) return bad('type');
  const topic = values.topic;
  if (topic === undefined || topic === '') return bad('headers.topic');
  const contentType = values.contentType;
  if (contentType !== undefined && !contentType.toLowerCase().startsWith('application/json'))
    return bad('headers.contentType');
  if (doc.specVersion !== undefined && typeof doc.specVersion !== 'string') return bad('specVersion');
  const data = doc.data === undefined || doc.data === null ? '' : doc.data;
  if (typeof data !== 'string') return bad('data');
  if (type === 'SYSTEM') {
    // A ping is answered with the data it came with (its opaque); other SYSTEM topics get no answer.
    if (topic !== 'ping') return { kind: 'none', log: 'unknown SYSTEM topic ignored' };
    return { kind: 'ack', messageId: id, code: 200, echo: data };
  }
  if (type === 'EVENT') {
    if (data === '') return { kind: 'ack', messageId: id, code: 200 };
    const body = parseJson(data);
    if (!body.ok || !isObject(body.value)) return bad('data');
    return { kind: 'ack', messageId: id, code: 200 };
  }
  return HANDLED_TOPICS.includes(topic)
    ? { kind: 'ack', messageId: id, code: 200 }
    : { kind: 'ack', messageId: id, code: 404 };
}

let w: WireApp;
let connectionId: string;
let n = 0;

beforeAll(async () => {
  w = await startWireApp();
  connectionId = w.connectionId();
});

afterAll(async () => {
  await w.close();
});

/** Sends `text` and checks that the app's answer (or silence) is the expected one. */
async function sendAndCheck(text: string): Promise<void> {
  const expected = expectedAnswer(text);
  const since = w.sandbox.gateway.deliveries().at(-1)?.seq ?? 0;
  const mark = w.logMark();
  const record = await w.sendRaw(text);
  if (expected.kind === 'none') {
    expect(record.ack, text.slice(0, 300)).toBeUndefined();
    expect(w.unmatchedSince(since), text.slice(0, 300)).toEqual([]);
    expect(
      w.logsSince(mark).filter((e) => e.msg === expected.log),
      text.slice(0, 300),
    ).toHaveLength(1);
    return;
  }
  // String ids are tracked on the record; an id that was a number comes back as an unmatched answer.
  const answerOf = () =>
    record.messageId === expected.messageId
      ? record.ack
      : w.unmatchedSince(since).find((d) => d.messageId === expected.messageId)?.ack;
  await until(() => answerOf() !== undefined, 5_000, `the answer to ${expected.messageId}`);
  const ack = answerOf()!;
  expect(ack.code, text.slice(0, 300)).toBe(expected.code);
  if (expected.field !== undefined)
    expect(ack.message, text.slice(0, 300)).toMatch(
      new RegExp(`^${expected.field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected `),
    );
  if (expected.echo !== undefined) expect(ack.data ?? '', text.slice(0, 300)).toBe(expected.echo);
}

/** A valid frame as the gateway sends it, with a fresh message id. */
function validFrame(kind: 'event' | 'graph' | 'plugin' | 'ping'): Record<string, unknown> {
  const id = `prop-${++n}`;
  const base = { topic: '*', messageId: id, contentType: 'application/json', time: String(Date.now()) };
  switch (kind) {
    case 'event':
      return {
        specVersion: '1.0',
        type: 'EVENT',
        headers: { ...base, eventId: `prop-evt-${n}`, eventType: 'prop', eventCorpId: 'dingsandboxcorp' },
        data: '{"a":1}',
      };
    case 'graph':
      return {
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: { ...base, topic: GRAPH },
        data: JSON.stringify({
          requestLine: { method: 'GET', uri: '/v1/actions/crm/me' },
          headers: {},
          body: '',
        }),
      };
    case 'plugin':
      return {
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: { ...base, topic: PLUGIN },
        data: JSON.stringify({ abilityKey: 'addCustomer', data: {}, requestId: 'p' }),
      };
    case 'ping':
      return {
        specVersion: '1.0',
        type: 'SYSTEM',
        headers: { ...base, topic: 'ping' },
        data: '{"opaque":"o-1"}',
      };
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 2 });
const headerName = fc.constantFrom('topic', 'messageId', 'contentType', 'time', 'eventId', 'x-custom');
/** One change to a frame document. */
const mutation = fc.oneof(
  fc.record({
    at: fc.constant('top' as const),
    key: fc.constantFrom('specVersion', 'type', 'headers', 'data'),
    value: fc.option(jsonValue, { nil: undefined }),
  }),
  fc.record({
    at: fc.constant('header' as const),
    key: headerName,
    value: fc.option(jsonValue, { nil: undefined }),
  }),
  fc.record({
    at: fc.constant('type' as const),
    key: fc.constant('type'),
    value: fc.oneof(
      fc.constantFrom('SYSTEM', 'EVENT', 'CALLBACK', 'event', 'PUSH', ''),
      fc.string({ maxLength: 8 }),
    ),
  }),
  fc.record({
    at: fc.constant('data' as const),
    key: fc.constant('data'),
    value: fc.oneof(
      fc.string({ maxLength: 20 }),
      jsonValue.map((v) => JSON.stringify(v)),
    ),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(doc: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  const copy: Record<string, unknown> = {
    ...doc,
    headers: isObject(doc.headers) ? { ...doc.headers } : doc.headers,
  };
  const target: Record<string, unknown> | undefined =
    m.at === 'header' ? (isObject(copy.headers) ? copy.headers : undefined) : copy;
  if (target === undefined) return copy;
  if (m.value === undefined) delete target[m.key];
  else target[m.key] = m.value;
  return copy;
}

describe('frames over the wire (fast-check)', () => {
  it('arbitrary text and arbitrary JSON documents: dropped or answered as defined; the app keeps its connection', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.json({ maxDepth: 3 }),
          fc.string({ unit: 'grapheme', maxLength: 30 }),
        ),
        async (text) => {
          await sendAndCheck(text);
        },
      ),
      { numRuns: 300 },
    );
    await w.stillServing();
    expect(w.connectionId()).toBe(connectionId);
  });

  it('valid frames with one to three fields changed, removed or replaced: the defined ack, or a logged drop', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('event', 'graph', 'plugin', 'ping' as const),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (kind, mutations) => {
          const doc = mutations.reduce(mutate, validFrame(kind));
          await sendAndCheck(JSON.stringify(doc));
        },
      ),
      { numRuns: 500 },
    );
    await w.stillServing();
    expect(w.connectionId()).toBe(connectionId);
  });

  it('valid frames cut short or with a character spliced in: not JSON is dropped, JSON is answered as defined', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('event', 'graph', 'ping' as const),
        fc.nat(),
        fc.oneof(fc.constant(''), fc.constantFrom('"', '{', '}', ',', ':', '\\', 'x', '\u0000', '中')),
        async (kind, at, splice) => {
          const text = JSON.stringify(validFrame(kind));
          const cut = at % (text.length + 1);
          await sendAndCheck(
            splice === '' ? text.slice(0, cut) : text.slice(0, cut) + splice + text.slice(cut),
          );
        },
      ),
      { numRuns: 150 },
    );
    await w.stillServing();
    expect(w.connectionId()).toBe(connectionId);
  });
});

/** Error codes a Graph answer may carry (docs/decisions.md). */
const GRAPH_ERRORS: Record<number, string[]> = {
  400: ['InvalidParameter', 'InvalidAuthentication'],
  403: ['Forbidden.AccessDenied.AccessTokenPermissionDenied'],
  404: ['NotFound'],
  500: ['InternalError'],
  504: ['HandlerTimeout'],
};
const CRM_PATHS = [
  '/v1/actions/crm/me',
  '/v1/actions/crm/todos',
  '/v1/actions/crm/events',
  '/v1/actions/crm/status',
  '/v1/actions/crm/customers',
];

describe('Graph API requests over the wire (fast-check)', () => {
  it('arbitrary request lines, query strings, headers and bodies: a Graph response with a defined status and body', async () => {
    const query = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 12 }), {
      maxKeys: 4,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'get', 'TRACE'),
          fc.string({ maxLength: 6 }),
        ),
        fc.oneof(fc.constantFrom(...CRM_PATHS, '/v1/actions/test/throw'), fc.string({ maxLength: 20 })),
        query,
        fc.oneof(fc.constant('%'), fc.constant(''), fc.string({ maxLength: 6 })),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }),
          fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
          { maxKeys: 3 },
        ),
        fc.oneof(
          fc.constant(''),
          fc.string({ maxLength: 30 }),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          fc.object({ maxDepth: 1 }).map((o) => JSON.stringify(o)),
        ),
        async (method, path, params, junk, headers, body) => {
          const uri = `${path}?${new URLSearchParams(params)}${junk}`;
          const res = await w.graphRaw(
            JSON.stringify({
              requestLine: { method, uri },
              headers: { ...headers, 'x-request-id': 'rq-prop' },
              body,
            }),
          );
          const text = JSON.stringify(res.body);
          expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+:\d+/);
          if (res.status === 200) return;
          expect(Object.keys(GRAPH_ERRORS).map(Number)).toContain(res.status);
          const answer = res.body as { success: unknown; code: string; requestId: string };
          expect(answer.success).toBe(false);
          expect(GRAPH_ERRORS[res.status]).toContain(answer.code);
          // The request id is the x-request-id header (or, when the request could not be read, the frame's id).
          expect(['rq-prop', res.messageId]).toContain(answer.requestId);
          // A request whose line, path and body are fine but names no skill is a 404. (A body that is
          // not a JSON object makes the request malformed: 400 before any routing.)
          if (
            ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].includes(method.toUpperCase()) &&
            /^\/[A-Za-z0-9/_-]*$/.test(path) &&
            ![...CRM_PATHS, '/v1/actions/test/throw', '/v1/actions/test/hang'].includes(path) &&
            !junk.includes('%') &&
            isEmptyOrJsonObject(body)
          )
            expect(res.status).toBe(404);
        },
      ),
      { numRuns: 200 },
    );
    await w.stillServing();
    expect(w.connectionId()).toBe(connectionId);
  });
});

/** True for "" or the JSON text of an object: the Graph request bodies the runner accepts. */
function isEmptyOrJsonObject(body: string): boolean {
  if (body.trim() === '') return true;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
}
