import {
  type DownstreamFrame,
  MAX_FRAME_BYTES,
  parseDownstreamFrame,
  serializeDownstreamFrame,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { catchProtocolError, expectProtocolError } from './expect-protocol-error.js';

const GRAPH_DATA =
  '{"requestLine":{"method":"GET","uri":"/v1/actions/example/weather/get?date=2021-10-1&location=%E6%9D%AD%E5%B7%9E"},"headers":{"content-type":"application/json"},"body":"{}"}';

/** A CALLBACK frame as the gateway sends it, with `patch` merged over the top-level fields. */
function frameText(patch: Record<string, unknown> = {}, headerPatch: Record<string, unknown> = {}): string {
  return JSON.stringify({
    specVersion: '1.0',
    type: 'CALLBACK',
    headers: {
      appId: 'app-1',
      connectionId: 'conn-1',
      contentType: 'application/json',
      messageId: 'm1',
      time: '1690362102194',
      topic: '/v1.0/graph/api/invoke',
      ...headerPatch,
    },
    data: GRAPH_DATA,
    ...patch,
  });
}

describe('parseDownstreamFrame: valid frames', () => {
  it('reads a Graph API CALLBACK frame field by field', () => {
    expect(parseDownstreamFrame(frameText())).toEqual({
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: {
        appId: 'app-1',
        connectionId: 'conn-1',
        contentType: 'application/json',
        messageId: 'm1',
        time: '1690362102194',
        topic: '/v1.0/graph/api/invoke',
      },
      data: GRAPH_DATA,
    });
  });

  it('keeps the event headers of an EVENT frame', () => {
    const text = JSON.stringify({
      specVersion: '1.0',
      type: 'EVENT',
      headers: {
        topic: '*',
        messageId: 'm-ev',
        contentType: 'application/json',
        time: '1690362102194',
        eventId: 'ev-1',
        eventBornTime: '1690362102000',
        eventCorpId: 'dingcorp',
        eventType: 'user_add_org',
        eventUnifiedAppId: 'unified-1',
      },
      data: '{"userId":["u1"]}',
    });
    expect(parseDownstreamFrame(text)).toEqual({
      specVersion: '1.0',
      type: 'EVENT',
      headers: {
        topic: '*',
        messageId: 'm-ev',
        contentType: 'application/json',
        time: '1690362102194',
        eventId: 'ev-1',
        eventBornTime: '1690362102000',
        eventCorpId: 'dingcorp',
        eventType: 'user_add_org',
        eventUnifiedAppId: 'unified-1',
      },
      data: '{"userId":["u1"]}',
    });
  });

  it('reads the SYSTEM ping and disconnect frames quoted from real traffic', () => {
    const ping =
      '{"specVersion":"1.0","type":"SYSTEM","headers":{"topic":"ping","messageId":"p-1","contentType":"application/json"},"data":"{\\"opaque\\":\\"123-dsfs\\"}"}';
    expect(parseDownstreamFrame(ping)).toEqual({
      specVersion: '1.0',
      type: 'SYSTEM',
      headers: { topic: 'ping', messageId: 'p-1', contentType: 'application/json' },
      data: '{"opaque":"123-dsfs"}',
    });
    const disconnect =
      '{"specVersion":"1.0","type":"SYSTEM","headers":{"contentType":"application/json","messageId":"c0a815dd1698551133918195d43","time":"1698551133918","topic":"disconnect"},"data":"{\\"reason\\":\\"persistent connection is timeout\\"}"}';
    expect(parseDownstreamFrame(disconnect)).toEqual({
      specVersion: '1.0',
      type: 'SYSTEM',
      headers: {
        contentType: 'application/json',
        messageId: 'c0a815dd1698551133918195d43',
        time: '1698551133918',
        topic: 'disconnect',
      },
      data: '{"reason":"persistent connection is timeout"}',
    });
  });

  it('defaults a missing specVersion to "1.0" and a missing contentType to application/json', () => {
    const text = JSON.stringify({ type: 'CALLBACK', headers: { topic: 't', messageId: 'm2' }, data: '{}' });
    expect(parseDownstreamFrame(text)).toEqual({
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: { topic: 't', messageId: 'm2', contentType: 'application/json' },
      data: '{}',
    });
  });

  it('accepts a JSON content type with parameters, in any case', () => {
    const frame = parseDownstreamFrame(frameText({}, { contentType: 'Application/JSON; charset=utf-8' }));
    expect(frame.headers.contentType).toBe('Application/JSON; charset=utf-8');
  });

  it('turns number and boolean header values into strings and drops null ones', () => {
    const frame = parseDownstreamFrame(
      frameText({}, { time: 1690362102194, messageId: 42, retry: true, appId: null }),
    );
    expect(frame.headers).toEqual({
      connectionId: 'conn-1',
      contentType: 'application/json',
      messageId: '42',
      time: '1690362102194',
      topic: '/v1.0/graph/api/invoke',
      retry: 'true',
    });
  });

  it('reads a missing or null data as ""', () => {
    expect(parseDownstreamFrame(frameText({ data: undefined })).data).toBe('');
    expect(parseDownstreamFrame(frameText({ data: null })).data).toBe('');
    expect(parseDownstreamFrame(frameText({ data: '' })).data).toBe('');
  });

  it('accepts a frame of exactly maxBytes bytes', () => {
    const base = frameText({ data: '' });
    const pad = 300 - Buffer.byteLength(base);
    const text = frameText({ data: 'x'.repeat(pad) });
    expect(Buffer.byteLength(text)).toBe(300);
    expect(parseDownstreamFrame(text, { maxBytes: 300 }).data).toBe('x'.repeat(pad));
  });

  it('keeps a header named __proto__ out of the prototype chain (it is dropped, nothing else changes)', () => {
    const text = '{"type":"CALLBACK","headers":{"messageId":"m1","topic":"t","__proto__":"x"},"data":"{}"}';
    const frame = parseDownstreamFrame(text);
    expect(Object.getPrototypeOf(frame.headers)).toBe(Object.prototype);
    expect(frame.headers).toEqual({ messageId: 'm1', topic: 't', contentType: 'application/json' });
  });
});

describe('parseDownstreamFrame: bad frames', () => {
  it('names the frame when the text is not JSON', () => {
    const err = expectProtocolError(() => parseDownstreamFrame('{"type":'), {
      field: 'frame',
      expected: 'valid JSON text',
    });
    expect(err.message).toBe('frame: expected valid JSON text, got "{\\"type\\":"');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it.each([
    ['[]', 'an array'],
    ['null', 'null'],
    ['42', 'number 42'],
    ['"frame"', '"frame"'],
  ])('names the frame when the JSON %s is not an object', (text, got) => {
    const err = expectProtocolError(() => parseDownstreamFrame(text), {
      field: 'frame',
      expected: 'a JSON object',
    });
    expect(err.message).toBe(`frame: expected a JSON object, got ${got}`);
  });

  it('refuses a frame over 256 KiB by default, counting UTF-8 bytes', () => {
    const text = frameText({ data: 'x'.repeat(MAX_FRAME_BYTES) });
    const err = expectProtocolError(() => parseDownstreamFrame(text), {
      field: 'frame',
      expected: 'at most 262144 bytes',
    });
    expect(err.message).toBe(`frame: expected at most 262144 bytes, got "${Buffer.byteLength(text)} bytes"`);
    // 100 Chinese characters: 100 UTF-16 units but 300 UTF-8 bytes.
    const chinese = frameText({ data: '杭'.repeat(100) });
    expect(chinese.length).toBeLessThan(400);
    expect(Buffer.byteLength(chinese)).toBeGreaterThan(400);
    expectProtocolError(() => parseDownstreamFrame(chinese, { maxBytes: 400 }), {
      field: 'frame',
      expected: 'at most 400 bytes',
    });
  });

  it.each([
    ['missing', undefined],
    ['an array', []],
    ['a string', 'topic=t'],
    ['null', null],
  ])('names headers when they are %s', (_label, headers) => {
    expectProtocolError(() => parseDownstreamFrame(frameText({ headers })), {
      field: 'headers',
      expected: 'an object of string values',
      messageId: undefined,
    });
  });

  it('names a header whose value is an object, with the salvaged message id', () => {
    expectProtocolError(() => parseDownstreamFrame(frameText({}, { topic: { name: 't' } })), {
      field: 'headers.topic',
      expected: 'a string',
      messageId: 'm1',
    });
    expectProtocolError(() => parseDownstreamFrame(frameText({}, { messageId: 7, appId: ['a'] })), {
      field: 'headers.appId',
      expected: 'a string',
      messageId: '7',
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
  ])('names headers.messageId when it is %s, without a message id', (_label, messageId) => {
    expectProtocolError(() => parseDownstreamFrame(frameText({}, { messageId })), {
      field: 'headers.messageId',
      expected: 'a non-empty string',
      messageId: undefined,
    });
  });

  it('names headers.messageId when it is an object', () => {
    expectProtocolError(() => parseDownstreamFrame(frameText({}, { messageId: { id: 'm1' } })), {
      field: 'headers.messageId',
      expected: 'a string',
      messageId: undefined,
    });
  });

  it.each([
    ['missing', undefined],
    ['lower case', 'callback'],
    ['unknown', 'RESPONSE'],
    ['a number', 1],
  ])('names type when it is %s, with the message id', (_label, type) => {
    expectProtocolError(() => parseDownstreamFrame(frameText({ type })), {
      field: 'type',
      expected: 'one of SYSTEM, EVENT, CALLBACK',
      messageId: 'm1',
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
  ])('names headers.topic when it is %s', (_label, topic) => {
    expectProtocolError(() => parseDownstreamFrame(frameText({}, { topic })), {
      field: 'headers.topic',
      expected: 'a non-empty string',
      messageId: 'm1',
    });
  });

  it('names headers.contentType when it is not JSON (Java answers 400 unknown content type)', () => {
    const err = expectProtocolError(
      () => parseDownstreamFrame(frameText({}, { contentType: 'text/plain' })),
      {
        field: 'headers.contentType',
        expected: 'application/json',
        messageId: 'm1',
      },
    );
    expect(err.message).toBe('headers.contentType: expected application/json, got "text/plain"');
  });

  it.each([
    ['a number', 1],
    ['an object', { v: '1.0' }],
  ])('names specVersion when it is %s', (_label, specVersion) => {
    expectProtocolError(() => parseDownstreamFrame(frameText({ specVersion })), {
      field: 'specVersion',
      expected: 'a string',
      messageId: 'm1',
    });
  });

  it.each([
    ['an object', { requestLine: {} }],
    ['a number', 5],
    ['a boolean', false],
    ['an array', ['{}']],
  ])('names data when it is %s instead of a string', (_label, data) => {
    expectProtocolError(() => parseDownstreamFrame(frameText({ data })), {
      field: 'data',
      expected: 'a string holding JSON',
      messageId: 'm1',
    });
  });

  it('describes a long bad value by its length, not its content', () => {
    const err = catchProtocolError(() => parseDownstreamFrame(frameText({ type: 'X'.repeat(41) })));
    expect(err.message).toBe('type: expected one of SYSTEM, EVENT, CALLBACK, got a string of 41 characters');
  });
});

describe('serializeDownstreamFrame', () => {
  it('writes specVersion, type, headers and data in that order', () => {
    const frame: DownstreamFrame = {
      data: '{"opaque":"o"}',
      headers: { topic: 'ping', messageId: 'p1', contentType: 'application/json' },
      type: 'SYSTEM',
      specVersion: '1.0',
    };
    expect(serializeDownstreamFrame(frame)).toBe(
      '{"specVersion":"1.0","type":"SYSTEM","headers":{"topic":"ping","messageId":"p1","contentType":"application/json"},"data":"{\\"opaque\\":\\"o\\"}"}',
    );
  });

  it('is read back unchanged by parseDownstreamFrame', () => {
    const frame = parseDownstreamFrame(frameText());
    expect(parseDownstreamFrame(serializeDownstreamFrame(frame))).toEqual(frame);
    expect(serializeDownstreamFrame(frame)).toBe(frameText());
  });
});
