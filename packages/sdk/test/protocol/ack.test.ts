import {
  AckCode,
  callbackAck,
  errorAck,
  eventAck,
  parseAck,
  pingAck,
  readAckData,
  readCallbackResponse,
  readEventAck,
  serializeAck,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { expectProtocolError } from './expect-protocol-error.js';

const JSON_HEADERS = { messageId: 'm1', contentType: 'application/json' };

describe('ack builders', () => {
  it('eventAck SUCCESS holds {status, message} in data and serializes in wire order', () => {
    const ack = eventAck('m1', 'SUCCESS');
    expect(ack).toEqual({
      code: 200,
      headers: JSON_HEADERS,
      message: 'OK',
      data: '{"status":"SUCCESS","message":"OK"}',
    });
    expect(serializeAck(ack)).toBe(
      '{"code":200,"headers":{"messageId":"m1","contentType":"application/json"},"message":"OK","data":"{\\"status\\":\\"SUCCESS\\",\\"message\\":\\"OK\\"}"}',
    );
  });

  it('eventAck LATER says "later" unless given a message; the ack code stays 200', () => {
    expect(eventAck('m1', 'LATER')).toEqual({
      code: 200,
      headers: JSON_HEADERS,
      message: 'OK',
      data: '{"status":"LATER","message":"later"}',
    });
    expect(eventAck('m1', 'LATER', 'database down').data).toBe(
      '{"status":"LATER","message":"database down"}',
    );
  });

  it('callbackAck wraps the result in {"response": ...}; undefined becomes null', () => {
    expect(callbackAck('m1', { text: '晴天' })).toEqual({
      code: 200,
      headers: JSON_HEADERS,
      message: 'OK',
      data: '{"response":{"text":"晴天"}}',
    });
    expect(callbackAck('m1', undefined).data).toBe('{"response":null}');
    expect(callbackAck('m1', null).data).toBe('{"response":null}');
  });

  it('pingAck echoes the data that came in', () => {
    expect(pingAck('p1', '{"opaque":"123-dsfs"}')).toEqual({
      code: 200,
      headers: { messageId: 'p1', contentType: 'application/json' },
      message: 'OK',
      data: '{"opaque":"123-dsfs"}',
    });
  });

  it('errorAck carries the code and message and no data key (like Java)', () => {
    const ack = errorAck('m1', AckCode.NotFound, 'topic not handled');
    expect(ack).toEqual({ code: 404, headers: JSON_HEADERS, message: 'topic not handled' });
    expect('data' in ack).toBe(false);
    expect(serializeAck(ack)).toBe(
      '{"code":404,"headers":{"messageId":"m1","contentType":"application/json"},"message":"topic not handled"}',
    );
  });
});

describe('parseAck: what the official SDKs send', () => {
  it('reads our own acks back exactly', () => {
    for (const ack of [
      eventAck('m1', 'SUCCESS'),
      callbackAck('m1', [1, 'two']),
      errorAck('m1', 500, 'internal error'),
    ]) {
      expect(parseAck(serializeAck(ack))).toEqual(ack);
    }
  });

  it('keeps every header the Node SDK echoes in its ping reply, as strings', () => {
    const text = JSON.stringify({
      code: 200,
      headers: {
        appId: 'app-1',
        connectionId: 'conn-1',
        contentType: 'application/json',
        messageId: 'p1',
        time: '1690362102194',
        topic: 'ping',
        retry: 3,
        flag: true,
        nothing: null,
      },
      message: 'OK',
      data: '{"opaque":"123"}',
    });
    expect(parseAck(text)).toEqual({
      code: 200,
      headers: {
        messageId: 'p1',
        contentType: 'application/json',
        appId: 'app-1',
        connectionId: 'conn-1',
        time: '1690362102194',
        topic: 'ping',
        retry: '3',
      },
      message: 'OK',
      data: '{"opaque":"123"}',
    });
  });

  it('reads a Java error ack: headers.time, no data', () => {
    const text =
      '{"code":400,"headers":{"messageId":"m1","contentType":"application/json","time":"1690362102194"},"message":"unknown content type"}';
    expect(parseAck(text)).toEqual({
      code: 400,
      headers: { messageId: 'm1', contentType: 'application/json', time: '1690362102194' },
      message: 'unknown content type',
    });
  });

  it('reads data "" as "" and data null as absent', () => {
    expect(parseAck('{"code":200,"headers":{"messageId":"m1"},"message":"OK","data":""}')).toEqual({
      code: 200,
      headers: JSON_HEADERS,
      message: 'OK',
      data: '',
    });
    const nullData = parseAck('{"code":200,"headers":{"messageId":"m1"},"message":"OK","data":null}');
    expect(nullData).toEqual({ code: 200, headers: JSON_HEADERS, message: 'OK' });
    expect('data' in nullData).toBe(false);
  });

  it('accepts a numeric-string code, a numeric messageId and a missing message', () => {
    expect(parseAck('{"code":"500","headers":{"messageId":12}}')).toEqual({
      code: 500,
      headers: { messageId: '12', contentType: 'application/json' },
      message: '',
    });
  });

  it('keeps a contentType the client sent', () => {
    expect(parseAck('{"code":200,"headers":{"messageId":"m1","contentType":"text/plain"}}').headers).toEqual({
      messageId: 'm1',
      contentType: 'text/plain',
    });
  });
});

describe('parseAck: bad acks', () => {
  it('names the ack when it is not JSON or not an object', () => {
    expectProtocolError(() => parseAck('OK'), { field: 'ack', expected: 'valid JSON text' });
    expectProtocolError(() => parseAck('[]'), { field: 'ack', expected: 'a JSON object' });
  });

  it.each([
    ['missing', undefined],
    ['a string', 'messageId=m1'],
    ['an array', [{ messageId: 'm1' }]],
  ])('names headers when they are %s', (_label, headers) => {
    expectProtocolError(() => parseAck(JSON.stringify({ code: 200, headers, message: 'OK' })), {
      field: 'headers',
      expected: 'an object',
    });
  });

  it.each([
    ['missing', {}],
    ['empty', { messageId: '' }],
    ['an object', { messageId: { id: 'm1' } }],
    ['a boolean', { messageId: true }],
  ])('names headers.messageId when it is %s, without a message id', (_label, headers) => {
    expectProtocolError(() => parseAck(JSON.stringify({ code: 200, headers })), {
      field: 'headers.messageId',
      expected: 'a non-empty string',
      messageId: undefined,
    });
  });

  it.each([
    ['missing', undefined],
    ['a word', 'OK'],
    ['a four-digit string', '2000'],
    ['a fraction', 200.5],
    ['null', null],
  ])('names code when it is %s, with the message id', (_label, code) => {
    expectProtocolError(() => parseAck(JSON.stringify({ code, headers: { messageId: 'm1' } })), {
      field: 'code',
      expected: 'an integer status code',
      messageId: 'm1',
    });
  });

  it.each([
    ['an object', { response: 1 }],
    ['a number', 1],
    ['an array', []],
  ])('names data when it is %s, with the message id', (_label, data) => {
    expectProtocolError(() => parseAck(JSON.stringify({ code: 200, headers: { messageId: 'm1' }, data })), {
      field: 'data',
      expected: 'a string holding JSON',
      messageId: 'm1',
    });
  });
});

describe('readEventAck: how the platform reads an EVENT ack', () => {
  it('reads our SUCCESS and LATER acks', () => {
    expect(readEventAck(parseAck(serializeAck(eventAck('m1', 'SUCCESS'))))).toEqual({
      status: 'SUCCESS',
      message: 'OK',
    });
    expect(readEventAck(parseAck(serializeAck(eventAck('m1', 'LATER', 'retry me'))))).toEqual({
      status: 'LATER',
      message: 'retry me',
    });
  });

  it('Python: code 200 echoing the event data without a status is success', () => {
    const ack = parseAck(
      JSON.stringify({
        code: 200,
        headers: { messageId: 'm1', contentType: 'application/json' },
        message: 'OK',
        data: '{"userId":["u1"],"eventType":"user_add_org"}',
      }),
    );
    expect(readEventAck(ack)).toEqual({ status: 'SUCCESS', message: undefined });
  });

  it('Go: LATER answered with code 500 is LATER, with the ack message', () => {
    const ack = parseAck(
      JSON.stringify({
        code: 500,
        headers: { messageId: 'm1', contentType: 'application/json' },
        message: 'internal error',
        data: '{"status":"LATER","message":"handler failed"}',
      }),
    );
    expect(readEventAck(ack)).toEqual({ status: 'LATER', message: 'internal error' });
  });

  it('any code other than 200 means LATER, even with status SUCCESS', () => {
    const ack = parseAck(
      '{"code":400,"headers":{"messageId":"m1"},"message":"bad request","data":"{\\"status\\":\\"SUCCESS\\"}"}',
    );
    expect(readEventAck(ack)).toEqual({ status: 'LATER', message: 'bad request' });
  });

  it('code 200 with data missing or "" is success (Java, Python and Go may omit it)', () => {
    expect(readEventAck(parseAck('{"code":200,"headers":{"messageId":"m1"},"message":"OK"}'))).toEqual({
      status: 'SUCCESS',
      message: undefined,
    });
    expect(
      readEventAck(parseAck('{"code":200,"headers":{"messageId":"m1"},"message":"OK","data":""}')),
    ).toEqual({ status: 'SUCCESS', message: undefined });
  });

  it('reads the status case-insensitively', () => {
    const ack = parseAck(
      '{"code":200,"headers":{"messageId":"m1"},"data":"{\\"status\\":\\"later\\",\\"message\\":7}"}',
    );
    expect(readEventAck(ack)).toEqual({ status: 'LATER', message: undefined });
  });

  it('throws a ProtocolError naming data, with the message id, when data is not JSON', () => {
    const ack = parseAck('{"code":200,"headers":{"messageId":"m1"},"data":"SUCCESS"}');
    expectProtocolError(() => readEventAck(ack), {
      field: 'data',
      expected: 'valid JSON text',
      messageId: 'm1',
    });
  });
});

describe('readCallbackResponse', () => {
  it('reads the response of our callbackAck and of Node socketCallBackResponse', () => {
    const graph = {
      statusLine: { code: 200, reasonPhrase: 'OK' },
      headers: { 'content-type': 'application/json' },
      body: '{"text":"晴天"}',
    };
    expect(readCallbackResponse(parseAck(serializeAck(callbackAck('m1', graph))))).toEqual(graph);
    // The Node SDK: send(messageId, {response: result}) => data = JSON.stringify({response: result}).
    const node = JSON.stringify({
      code: 200,
      headers: { contentType: 'application/json', messageId: 'm1' },
      message: 'OK',
      data: JSON.stringify({ response: graph }),
    });
    expect(readCallbackResponse(parseAck(node))).toEqual(graph);
  });

  it('returns null for {"response": null} (fine for bot messages)', () => {
    expect(readCallbackResponse(parseAck(serializeAck(callbackAck('m1', undefined))))).toBeNull();
  });

  it('returns undefined when data is missing, "" or holds no response', () => {
    expect(readCallbackResponse(parseAck('{"code":200,"headers":{"messageId":"m1"}}'))).toBeUndefined();
    expect(readCallbackResponse(parseAck('{"code":200,"headers":{"messageId":"m1"},"data":""}'))).toBe(
      undefined,
    );
    expect(
      readCallbackResponse(parseAck('{"code":200,"headers":{"messageId":"m1"},"data":"{\\"result\\":1}"}')),
    ).toBeUndefined();
    expect(
      readCallbackResponse(parseAck('{"code":200,"headers":{"messageId":"m1"},"data":"[1,2]"}')),
    ).toBeUndefined();
  });

  it('throws a ProtocolError naming data, with the message id, when data is not JSON', () => {
    const ack = parseAck('{"code":200,"headers":{"messageId":"m9"},"data":"{response:1}"}');
    expectProtocolError(() => readCallbackResponse(ack), {
      field: 'data',
      expected: 'valid JSON text',
      messageId: 'm9',
    });
  });
});

describe('readAckData', () => {
  it('parses data as JSON; missing or "" is undefined', () => {
    expect(readAckData({ code: 200, headers: JSON_HEADERS, message: 'OK', data: '{"a":[1]}' })).toEqual({
      a: [1],
    });
    expect(readAckData({ code: 200, headers: JSON_HEADERS, message: 'OK', data: '' })).toBeUndefined();
    expect(readAckData({ code: 200, headers: JSON_HEADERS, message: 'OK' })).toBeUndefined();
  });
});
