import {
  callbackAck,
  type DownstreamFrame,
  decodeRequestUri,
  eventAck,
  FRAME_TYPES,
  GRAPH_METHODS,
  type GraphRequest,
  ProtocolError,
  parseAck,
  parseDownstreamFrame,
  parseGraphRequest,
  readCallbackResponse,
  readEventAck,
  serializeAck,
  serializeDownstreamFrame,
  serializeGraphRequest,
  type UpstreamAck,
} from '@dingtalk-skills/sdk/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * Header names for round trips. `__proto__` is left out on purpose: the codecs build plain objects,
 * where a header of that name is dropped (see frame.test.ts), so it cannot round-trip.
 */
const headerName = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__');
const nonEmpty = fc.string({ minLength: 1, maxLength: 24 });
const jsonText = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));

const frameArb: fc.Arbitrary<DownstreamFrame> = fc
  .record({
    specVersion: fc.constantFrom('1.0', '1.1', ''),
    type: fc.constantFrom(...FRAME_TYPES),
    topic: nonEmpty,
    messageId: nonEmpty,
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
    extra: fc.dictionary(
      headerName.filter((k) => !['topic', 'messageId', 'contentType'].includes(k)),
      fc.string({ maxLength: 16 }),
      { maxKeys: 6 },
    ),
    data: jsonText,
  })
  .map(({ specVersion, type, topic, messageId, contentType, extra, data }) => ({
    specVersion,
    type,
    headers: { ...extra, topic, messageId, contentType },
    data,
  }));

const ackArb: fc.Arbitrary<UpstreamAck> = fc
  .record(
    {
      code: fc.oneof(fc.constantFrom(200, 400, 404, 500), fc.integer({ min: 100, max: 599 })),
      messageId: nonEmpty,
      contentType: fc.string({ maxLength: 20 }),
      extra: fc.dictionary(
        headerName.filter((k) => k !== 'messageId' && k !== 'contentType'),
        fc.string({ maxLength: 16 }),
        { maxKeys: 6 },
      ),
      message: fc.string({ maxLength: 20 }),
      data: fc.oneof(jsonText, fc.constant('')),
    },
    { requiredKeys: ['code', 'messageId', 'contentType', 'extra', 'message'] },
  )
  .map(({ code, messageId, contentType, extra, message, data }) => {
    const ack: UpstreamAck = { code, headers: { ...extra, messageId, contentType }, message };
    if (data !== undefined) ack.data = data;
    return ack;
  });

/** Well-formed Unicode (encodeURIComponent refuses lone surrogates, which a real URI cannot hold). */
const uriText = fc.string({ unit: 'grapheme', maxLength: 12 });

const graphArb: fc.Arbitrary<GraphRequest> = fc.record({
  requestLine: fc.record({
    method: fc.constantFrom(...GRAPH_METHODS),
    uri: fc
      .tuple(fc.array(uriText, { maxLength: 4 }), fc.array(fc.tuple(uriText, uriText), { maxLength: 5 }))
      .map(([segments, pairs]) => buildUri(segments, pairs)),
  }),
  headers: fc.dictionary(
    headerName.map((k) => k.toLowerCase()).filter((k) => k !== '__proto__'),
    fc.string({ maxLength: 16 }),
    { maxKeys: 6 },
  ),
  body: fc.oneof(fc.constant(''), jsonText),
});

function buildUri(segments: string[], pairs: [string, string][]): string {
  const path = `/${segments.map(encodeURIComponent).join('/')}`;
  if (pairs.length === 0) return path;
  return `${path}?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** Runs `fn`; anything it throws must be a ProtocolError (whose messageId, if set, is a non-empty string). */
function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    if (err.messageId !== undefined) expect(err.messageId).not.toBe('');
    expect(err.field).not.toBe('');
  }
}

describe('round trips', () => {
  it('parse(serialize(frame)) = frame, and serialize(parse(text)) = text', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const text = serializeDownstreamFrame(frame);
        const parsed = parseDownstreamFrame(text);
        expect(parsed).toEqual(frame);
        expect(serializeDownstreamFrame(parsed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('parse(serialize(ack)) = ack, and serialize(parse(text)) parses to the same ack', () => {
    fc.assert(
      fc.property(ackArb, (ack) => {
        const text = serializeAck(ack);
        const parsed = parseAck(text);
        expect(parsed).toEqual(ack);
        expect(parseAck(serializeAck(parsed))).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('serializeAck writes the same text as JSON.stringify, for built acks and any other ack', () => {
    fc.assert(
      fc.property(nonEmpty, fc.jsonValue({ maxDepth: 3 }), ackArb, (messageId, result, other) => {
        // callbackAck's data is the text the wrapper object gives; serializeAck's template the text of the ack.
        const built = callbackAck(messageId, result);
        expect(built.data).toBe(JSON.stringify({ response: result === undefined ? null : result }));
        expect(serializeAck(built)).toBe(JSON.stringify(built));
        expect(serializeAck(eventAck(messageId, 'LATER', messageId))).toBe(
          JSON.stringify(eventAck(messageId, 'LATER', messageId)),
        );
        expect(serializeAck(other)).toBe(JSON.stringify(other));
      }),
      { numRuns: 300 },
    );
  });

  it('serializeAck keeps extra headers, odd codes and odd field types as JSON.stringify does', () => {
    const odd: UpstreamAck[] = [
      { code: 200, headers: { messageId: 'm', contentType: 'application/json', extra: 'x' }, message: 'OK' },
      { code: 200, headers: { contentType: 'application/json', messageId: 'm' }, message: 'OK' },
      { code: Number.NaN, headers: { messageId: 'm', contentType: 'application/json' }, message: 'OK' },
      { code: 200.5, headers: { messageId: 'm', contentType: 'application/json' }, message: 'OK' },
      { code: 200, headers: { messageId: 'm', contentType: 'application/json' }, message: 'OK', data: '' },
      { code: 200, headers: { messageId: 'm\u2028"', contentType: 'a/b' }, message: '好' },
      JSON.parse('{"code":200,"headers":{"messageId":"m","contentType":"application/json"},"message":null}'),
    ];
    for (const ack of odd) expect(serializeAck(ack)).toBe(JSON.stringify(ack));
  });

  it('a callback result JSON leaves out (a function) answers {} as the wrapper object did', () => {
    expect(callbackAck('m', () => 1).data).toBe('{}');
    expect(callbackAck('m', undefined).data).toBe('{"response":null}');
  });

  it('a callback ack carries any JSON result back through readCallbackResponse', () => {
    fc.assert(
      fc.property(nonEmpty, fc.jsonValue({ maxDepth: 3 }), (messageId, result) => {
        const read = readCallbackResponse(parseAck(serializeAck(callbackAck(messageId, result))));
        expect(read).toEqual(JSON.parse(JSON.stringify(result)));
      }),
      { numRuns: 200 },
    );
  });

  it('an event ack carries its status and message back through readEventAck', () => {
    fc.assert(
      fc.property(
        nonEmpty,
        fc.constantFrom('SUCCESS' as const, 'LATER' as const),
        fc.string({ maxLength: 20 }),
        (messageId, status, message) => {
          const read = readEventAck(parseAck(serializeAck(eventAck(messageId, status, message))));
          expect(read).toEqual({ status, message });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parse(serialize(graph request)) = request, and serialize(parse(text)) = text', () => {
    fc.assert(
      fc.property(graphArb, (req) => {
        const text = serializeGraphRequest(req);
        const parsed = parseGraphRequest(text, 'm1');
        expect(parsed).toEqual(req);
        expect(serializeGraphRequest(parsed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('decodeRequestUri splits an unencoded path exactly as String.prototype.split does (empty and trailing segments too)', () => {
    const pathText = fc
      .array(fc.constantFrom('/', 'a', 'b', '.', '-', '~'), { maxLength: 16 })
      .map((chars) => `/${chars.join('')}`);
    fc.assert(
      fc.property(pathText, fc.constantFrom('', '?', '?a=1', '?&&a=&b', '#frag', '?x=1#f'), (path, tail) => {
        const decoded = decodeRequestUri(`${path}${tail}`);
        expect(decoded.segments).toEqual(path.split('/'));
        expect(decoded.path).toBe(path);
      }),
      { numRuns: 300 },
    );
  });

  it('decodeRequestUri recovers the path, each segment and every query pair, in order', () => {
    fc.assert(
      fc.property(
        fc.array(uriText, { maxLength: 4 }),
        fc.array(fc.tuple(uriText, uriText), { maxLength: 6 }),
        (segments, pairs) => {
          const decoded = decodeRequestUri(buildUri(segments, pairs));
          const { path, query } = decoded;
          expect(path).toBe(`/${segments.join('/')}`);
          // Split before decoding: every segment comes back whole, even one holding "/".
          expect(decoded.segments).toEqual(segments.length === 0 ? ['', ''] : ['', ...segments]);
          const want = new Map<string, string[]>();
          for (const [k, v] of pairs) want.set(k, [...(want.get(k) ?? []), v]);
          // Values keep their order; names are compared sorted, since an object lists integer-like
          // names (`0`) before the others whatever the order they were added in.
          const byName = (a: readonly [string, unknown], b: readonly [string, unknown]) =>
            a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
          expect(Object.entries(query).sort(byName)).toEqual(
            [...want].map(([k, vs]) => [k, vs.length === 1 ? vs[0] : vs] as const).sort(byName),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A valid frame's document with one field replaced by an arbitrary JSON value (or removed). */
const fieldMutation = fc.record({
  path: fc.constantFrom(
    ['specVersion'],
    ['type'],
    ['headers'],
    ['data'],
    ['headers', 'messageId'],
    ['headers', 'topic'],
    ['headers', 'contentType'],
    ['headers', 'time'],
    ['headers', '__proto__'],
  ),
  value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
});

/** A text edit of a valid frame: delete, insert or replace a slice, or truncate. */
const textMutation = fc.record({
  at: fc.nat(),
  length: fc.nat({ max: 8 }),
  insert: fc.string({ maxLength: 4 }),
});

describe('parseDownstreamFrame never throws anything but ProtocolError', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        onlyProtocolErrors(() => parseDownstreamFrame(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('on arbitrary JSON documents', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
        onlyProtocolErrors(() => parseDownstreamFrame(JSON.stringify(doc) ?? ''));
      }),
      { numRuns: 500 },
    );
  });

  it('on valid frames with one field replaced or removed; salvaged ids are the frame id', () => {
    fc.assert(
      fc.property(frameArb, fieldMutation, (frame, { path, value }) => {
        const doc = JSON.parse(serializeDownstreamFrame(frame)) as Record<string, unknown>;
        let target: Record<string, unknown> = doc;
        for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
        Object.defineProperty(target, path.at(-1)!, { value, enumerable: true, configurable: true });
        try {
          const parsed = parseDownstreamFrame(JSON.stringify(doc));
          expect(FRAME_TYPES).toContain(parsed.type);
          expect(parsed.headers.messageId).not.toBe('');
          expect(parsed.headers.topic).not.toBe('');
          expect(typeof parsed.data).toBe('string');
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          if (err.messageId !== undefined) {
            const mutatedId = path.join('.') === 'headers.messageId';
            expect(err.messageId).toBe(mutatedId ? String(value) : frame.headers.messageId);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('on valid frames with their text cut, spliced or truncated', () => {
    fc.assert(
      fc.property(frameArb, textMutation, (frame, { at, length, insert }) => {
        const text = serializeDownstreamFrame(frame);
        const i = at % (text.length + 1);
        onlyProtocolErrors(() => parseDownstreamFrame(text.slice(0, i) + insert + text.slice(i + length)));
        onlyProtocolErrors(() => parseDownstreamFrame(text.slice(0, i)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the other decoders never throw anything but ProtocolError', () => {
  it('parseAck, parseGraphRequest and decodeRequestUri on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 120 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        ),
        (text) => {
          onlyProtocolErrors(() => parseAck(text));
          onlyProtocolErrors(() => parseGraphRequest(text, 'm1'));
          onlyProtocolErrors(() => decodeRequestUri(`/${text}`, 'm1'));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
