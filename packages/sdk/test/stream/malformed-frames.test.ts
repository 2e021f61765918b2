import { readEventAck, Topic } from '@dingtalk-skills/sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StreamFixture, streamFixture } from '../support/stream-fixture.js';
import type { GatewaySocket } from '../support/test-gateway.js';

/** What the client must answer to a malformed frame. */
type Expected =
  | { kind: 'ack'; messageId: string; code: number; message: string }
  | { kind: 'log-only'; field: string };

interface Case {
  name: string;
  text: string;
  expected: Expected;
}

const headers = (messageId: string, extra: Record<string, unknown> = {}) => ({
  topic: '*',
  messageId,
  contentType: 'application/json',
  eventId: `evt-${messageId}`,
  ...extra,
});
const frame = (over: Record<string, unknown>) =>
  JSON.stringify({ specVersion: '1.0', type: 'EVENT', data: '{"a":1}', ...over });

const CASES: Case[] = [
  { name: 'not JSON', text: '{"specVersion": "1.0", type', expected: { kind: 'log-only', field: 'frame' } },
  { name: 'empty text', text: '', expected: { kind: 'log-only', field: 'frame' } },
  { name: 'a JSON array', text: '[1,2,3]', expected: { kind: 'log-only', field: 'frame' } },
  { name: 'a JSON string', text: '"hello"', expected: { kind: 'log-only', field: 'frame' } },
  {
    name: 'missing headers',
    text: JSON.stringify({ specVersion: '1.0', type: 'EVENT', data: '{}' }),
    expected: { kind: 'log-only', field: 'headers' },
  },
  {
    name: 'headers without messageId',
    text: frame({ headers: { topic: '*', contentType: 'application/json' } }),
    expected: { kind: 'log-only', field: 'headers.messageId' },
  },
  {
    name: 'empty messageId',
    text: frame({ headers: headers('') }),
    expected: { kind: 'log-only', field: 'headers.messageId' },
  },
  {
    name: 'unknown type',
    text: frame({ type: 'PUSH', headers: headers('bad-type') }),
    expected: {
      kind: 'ack',
      messageId: 'bad-type',
      code: 400,
      message: 'type: expected one of SYSTEM, EVENT, CALLBACK, got "PUSH"',
    },
  },
  {
    name: 'missing topic',
    text: frame({ headers: { messageId: 'no-topic', contentType: 'application/json' } }),
    expected: {
      kind: 'ack',
      messageId: 'no-topic',
      code: 400,
      message: 'headers.topic: expected a non-empty string, got nothing',
    },
  },
  {
    name: 'a header value that is an object',
    text: frame({ headers: headers('obj-header', { time: { at: 1 } }) }),
    expected: {
      kind: 'ack',
      messageId: 'obj-header',
      code: 400,
      message: 'headers.time: expected a string, got an object',
    },
  },
  {
    name: 'data not a string',
    text: frame({ headers: headers('data-object'), data: { a: 1 } }),
    expected: {
      kind: 'ack',
      messageId: 'data-object',
      code: 400,
      message: 'data: expected a string holding JSON, got an object',
    },
  },
  {
    name: 'EVENT data that is not JSON',
    text: frame({ headers: headers('data-not-json'), data: 'not json' }),
    expected: {
      kind: 'ack',
      messageId: 'data-not-json',
      code: 400,
      message: 'data: expected valid JSON text, got "not json"',
    },
  },
  {
    name: 'EVENT data that is a JSON array',
    text: frame({ headers: headers('data-array'), data: '[1]' }),
    expected: {
      kind: 'ack',
      messageId: 'data-array',
      code: 400,
      message: 'data: expected a JSON object, got an array',
    },
  },
  {
    name: 'wrong contentType',
    text: frame({ headers: headers('xml', { contentType: 'text/xml' }) }),
    expected: {
      kind: 'ack',
      messageId: 'xml',
      code: 400,
      message: 'headers.contentType: expected application/json, got "text/xml"',
    },
  },
  {
    name: 'specVersion not a string',
    text: frame({ specVersion: 2, headers: headers('spec-num') }),
    expected: {
      kind: 'ack',
      messageId: 'spec-num',
      code: 400,
      message: 'specVersion: expected a string, got number 2',
    },
  },
  {
    name: 'oversize (> 256 KiB)',
    text: frame({ headers: headers('too-big'), data: JSON.stringify({ pad: 'x'.repeat(256 * 1024) }) }),
    expected: { kind: 'log-only', field: 'frame' },
  },
];

let fx: StreamFixture;
let sock: GatewaySocket;
let handled = 0;

beforeAll(async () => {
  fx = await streamFixture();
  // Every case checks its own warning: no rate limit on them here (malformed-flood.test.ts tests it).
  const client = fx.client({ malformedFrameLog: { burst: 1_000_000 } });
  client.onEvent(() => {
    handled++;
  });
  client.onCallback(Topic.BotMessage, () => null);
  await client.start();
  [sock] = (await fx.gateway.waitForOpenSockets(1)) as [GatewaySocket];
});
afterAll(async () => {
  await fx.close();
});

describe('malformed frames: a defined answer, a log line, and the client keeps working', () => {
  it.each(CASES)('$name', async ({ text, expected }) => {
    const gw = fx.gateway;
    const acksBefore = gw.acks.length;
    const warningsBefore = fx.logs.find('malformed frame').length;
    const handledBefore = handled;
    gw.send(sock, text);
    await gw.roundTrip(sock); // the frame above has been read once its following ping is answered
    const newAcks = gw.acks.slice(acksBefore);
    const warnings = fx.logs.find('malformed frame').slice(warningsBefore);
    expect(warnings).toHaveLength(1);
    if (expected.kind === 'ack') {
      // The 400 answer, then the ping's answer.
      expect(newAcks).toHaveLength(2);
      expect(newAcks.slice(0, 1).map((a) => a.ack)).toEqual([
        {
          code: expected.code,
          headers: { messageId: expected.messageId, contentType: 'application/json' },
          message: expected.message,
        },
      ]);
      expect(newAcks[0]?.socket).toBe(sock);
      expect(warnings[0]).toMatchObject({ level: 40, messageId: expected.messageId });
    } else {
      // Only the ping's answer came back.
      expect(newAcks).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40, field: expected.field });
      expect(warnings[0]?.msg).toContain('no message id to answer');
    }
    expect(handled).toBe(handledBefore);
    // Still serving.
    const id = gw.deliver(gw.eventFrame());
    expect(readEventAck((await gw.waitForAck(id)).ack).status).toBe('SUCCESS');
    expect(handled).toBe(handledBefore + 1);
    expect(sock.isOpen).toBe(true);
  });

  it('accepts a numeric messageId (lenient like the Node/Java/Python SDKs) and echoes it as a string', async () => {
    const gw = fx.gateway;
    gw.send(sock, frame({ headers: headers('x', { messageId: 12345 }) }));
    const { ack } = await gw.waitForAck('12345');
    expect(ack.code).toBe(200);
    expect(readEventAck(ack).status).toBe('SUCCESS');
  });

  it('answers a binary frame holding a valid frame like a text frame', async () => {
    const gw = fx.gateway;
    const f = gw.eventFrame();
    sock.ws.send(Buffer.from(JSON.stringify(f)), { binary: true });
    expect(readEventAck((await gw.waitForAck(f.headers.messageId)).ack).status).toBe('SUCCESS');
  });

  it('never sent anything but acks', () => {
    expect(fx.gateway.unparsed).toEqual([]);
    expect(fx.gateway.sockets).toHaveLength(1);
  });
});
