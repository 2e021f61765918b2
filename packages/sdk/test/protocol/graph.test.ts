import {
  decodeRequestUri,
  type GraphRequest,
  graphJsonResponse,
  parseGraphBody,
  parseGraphRequest,
  parseGraphResponse,
  serializeGraphRequest,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { expectProtocolError } from './expect-protocol-error.js';

const WEATHER = {
  requestLine: {
    method: 'GET',
    uri: '/v1/actions/example/weather/get?date=2021-10-1&location=%E6%9D%AD%E5%B7%9E',
  },
  headers: {
    'content-type': 'application/json',
    'x-ability-key': 'addCustomer',
    'x-plugin-id': 'AI-xxxx',
    'x-plugin-version': '1.0.0',
  },
  body: '{}',
};

/** The `data` of a Graph CALLBACK: WEATHER with `patch` merged over the top-level fields. */
function data(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...WEATHER, ...patch });
}

describe('parseGraphRequest: valid requests', () => {
  it('reads the documented weather request exactly', () => {
    expect(parseGraphRequest(data(), 'm1')).toEqual(WEATHER);
  });

  it('upper-cases the method and accepts every supported one', () => {
    for (const method of ['get', 'Post', 'PUT', 'delete', 'patch']) {
      const req = parseGraphRequest(data({ requestLine: { method, uri: '/x' } }));
      expect(req.requestLine).toEqual({ method: method.toUpperCase(), uri: '/x' });
    }
  });

  it('lower-cases header names, stringifies numbers and booleans, joins string arrays, drops null', () => {
    const req = parseGraphRequest(
      data({
        headers: {
          'Content-Type': 'application/json',
          'X-Ability-Key': 'getWeather',
          'Content-Length': 2,
          'X-Debug': false,
          Accept: ['application/json', 'text/plain'],
          'X-Empty': null,
        },
      }),
    );
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      'x-ability-key': 'getWeather',
      'content-length': '2',
      'x-debug': 'false',
      accept: 'application/json, text/plain',
    });
  });

  it('reads missing or null headers as {}', () => {
    expect(parseGraphRequest(data({ headers: undefined })).headers).toEqual({});
    expect(parseGraphRequest(data({ headers: null })).headers).toEqual({});
  });

  it('reads a missing or null body as "", and tolerates a body sent as an object', () => {
    expect(parseGraphRequest(data({ body: undefined })).body).toBe('');
    expect(parseGraphRequest(data({ body: null })).body).toBe('');
    expect(parseGraphRequest(data({ body: { name: '张三', n: 1 } })).body).toBe('{"name":"张三","n":1}');
    expect(parseGraphRequest(data({ body: '{"name":"张三"}' })).body).toBe('{"name":"张三"}');
  });
});

describe('parseGraphRequest: bad requests', () => {
  it('names data when it is not JSON or not an object, with the message id', () => {
    expectProtocolError(() => parseGraphRequest('{"requestLine"', 'm1'), {
      field: 'data',
      expected: 'valid JSON text',
      messageId: 'm1',
    });
    expectProtocolError(() => parseGraphRequest('"GET /x"', 'm1'), {
      field: 'data',
      expected: 'a JSON object',
      messageId: 'm1',
    });
    expectProtocolError(() => parseGraphRequest(''), { field: 'data', expected: 'valid JSON text' });
  });

  it.each([
    ['missing', undefined],
    ['a string', 'GET /x HTTP/1.1'],
    ['an array', ['GET', '/x']],
  ])('names data.requestLine when it is %s', (_label, requestLine) => {
    expectProtocolError(() => parseGraphRequest(data({ requestLine }), 'm1'), {
      field: 'data.requestLine',
      expected: 'an object {method, uri}',
      messageId: 'm1',
    });
  });

  it.each([
    ['missing', undefined],
    ['HEAD', 'HEAD'],
    ['OPTIONS', 'OPTIONS'],
    ['a number', 1],
  ])('names data.requestLine.method when it is %s', (_label, method) => {
    expectProtocolError(() => parseGraphRequest(data({ requestLine: { method, uri: '/x' } }), 'm1'), {
      field: 'data.requestLine.method',
      expected: 'one of GET, POST, PUT, DELETE, PATCH',
      messageId: 'm1',
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['an absolute URL', 'https://example.com/v1/x'],
    ['a relative path', 'v1/x'],
    ['a number', 42],
  ])('names data.requestLine.uri when it is %s', (_label, uri) => {
    expectProtocolError(() => parseGraphRequest(data({ requestLine: { method: 'GET', uri } }), 'm1'), {
      field: 'data.requestLine.uri',
      expected: 'a path starting with "/"',
      messageId: 'm1',
    });
  });

  it('names data.headers when it is not an object', () => {
    expectProtocolError(() => parseGraphRequest(data({ headers: 'content-type: x' }), 'm1'), {
      field: 'data.headers',
      expected: 'an object',
      messageId: 'm1',
    });
    expectProtocolError(() => parseGraphRequest(data({ headers: [] }), 'm1'), {
      field: 'data.headers',
      expected: 'an object',
      messageId: 'm1',
    });
  });

  it('names the header (as sent) whose value is not a string', () => {
    expectProtocolError(() => parseGraphRequest(data({ headers: { 'X-Meta': { a: 1 } } }), 'm1'), {
      field: 'data.headers.X-Meta',
      expected: 'a string',
      messageId: 'm1',
    });
    expectProtocolError(() => parseGraphRequest(data({ headers: { Accept: ['a', 1] } })), {
      field: 'data.headers.Accept',
      expected: 'a string',
    });
  });

  it.each([
    ['a number', 1],
    ['an array', [{ a: 1 }]],
    ['a boolean', true],
  ])('names data.body when it is %s', (_label, body) => {
    expectProtocolError(() => parseGraphRequest(data({ body }), 'm1'), {
      field: 'data.body',
      expected: 'a string holding JSON',
      messageId: 'm1',
    });
  });
});

describe('serializeGraphRequest', () => {
  it('writes requestLine, headers, body and is read back unchanged', () => {
    const req: GraphRequest = {
      requestLine: { method: 'POST', uri: '/v1/customers' },
      headers: { 'content-type': 'application/json' },
      body: '{"name":"张三"}',
    };
    const text = serializeGraphRequest(req);
    expect(text).toBe(
      '{"requestLine":{"method":"POST","uri":"/v1/customers"},"headers":{"content-type":"application/json"},"body":"{\\"name\\":\\"张三\\"}"}',
    );
    expect(parseGraphRequest(text)).toEqual(req);
  });
});

describe('decodeRequestUri', () => {
  it('decodes the URL-encoded Chinese query value of the documented example', () => {
    expect(decodeRequestUri(WEATHER.requestLine.uri)).toEqual({
      path: '/v1/actions/example/weather/get',
      segments: ['', 'v1', 'actions', 'example', 'weather', 'get'],
      query: { date: '2021-10-1', location: '杭州' },
    });
  });

  it('decodes Chinese in the path and in keys', () => {
    expect(decodeRequestUri('/v1/%E5%AE%A2%E6%88%B7?%E5%90%8D%E5%AD%97=%E5%BC%A0%E4%B8%89')).toEqual({
      path: '/v1/客户',
      segments: ['', 'v1', '客户'],
      query: { 名字: '张三' },
    });
  });

  it('reads + as a space in the query only; %2B stays a plus', () => {
    expect(decodeRequestUri('/a+b?q=hello+world&r=1%2B1&s+t=x')).toEqual({
      path: '/a+b',
      segments: ['', 'a+b'],
      query: { q: 'hello world', r: '1+1', 's t': 'x' },
    });
  });

  it('keeps every value of a repeated key, in order', () => {
    expect(decodeRequestUri('/x?tag=a&id=1&tag=%E6%9D%AD&tag=c')).toEqual({
      path: '/x',
      segments: ['', 'x'],
      query: { tag: ['a', '杭', 'c'], id: '1' },
    });
  });

  it('reads a key without "=" as "", skips empty parts, keeps "=" inside values', () => {
    expect(decodeRequestUri('/x?flag&&a=b=c&=v&empty=')).toEqual({
      path: '/x',
      segments: ['', 'x'],
      query: { flag: '', a: 'b=c', '': 'v', empty: '' },
    });
  });

  it('reads a URI without a query, or with an empty one', () => {
    expect(decodeRequestUri('/x')).toEqual({ path: '/x', segments: ['', 'x'], query: {} });
    expect(decodeRequestUri('/x?')).toEqual({ path: '/x', segments: ['', 'x'], query: {} });
  });

  it('drops a fragment wherever it starts', () => {
    expect(decodeRequestUri('/x?a=1#frag')).toEqual({ path: '/x', segments: ['', 'x'], query: { a: '1' } });
    expect(decodeRequestUri('/x#frag')).toEqual({ path: '/x', segments: ['', 'x'], query: {} });
    expect(decodeRequestUri('/x#frag?a=1')).toEqual({ path: '/x', segments: ['', 'x'], query: {} });
  });

  it('treats names like constructor and __proto__ as ordinary query names', () => {
    const { query } = decodeRequestUri(
      '/x?constructor=a&toString=b&__proto__=c&__proto__=d&hasOwnProperty=e',
    );
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    expect(Object.entries(query)).toEqual([
      ['constructor', 'a'],
      ['toString', 'b'],
      ['__proto__', ['c', 'd']],
      ['hasOwnProperty', 'e'],
    ]);
  });

  it.each([
    ['a truncated UTF-8 sequence', '/x?q=%E6%9D'],
    ['a bad escape', '/x?q=%zz'],
    ['a lone %', '/x?a=1&q=100%'],
    ['a bad key', '/x?%E6=1'],
  ])('names the URI on malformed %%-encoding in the query: %s', (_label, uri) => {
    const err = expectProtocolError(() => decodeRequestUri(uri, 'm1'), {
      field: 'data.requestLine.uri',
      expected: 'validly %-encoded query parameters',
      messageId: 'm1',
    });
    expect(err.cause).toBeInstanceOf(URIError);
  });

  it('splits the path before decoding it: an encoded "/" stays inside its segment', () => {
    expect(decodeRequestUri('/v1/tickets/a%2Fb/c%252F?x=1')).toEqual({
      path: '/v1/tickets/a/b/c%2F',
      segments: ['', 'v1', 'tickets', 'a/b', 'c%2F'],
      query: { x: '1' },
    });
  });

  it('names the URI on malformed %-encoding in the path', () => {
    expectProtocolError(() => decodeRequestUri('/x%E6%9D/y?q=1'), {
      field: 'data.requestLine.uri',
      expected: 'a validly %-encoded path',
    });
  });
});

describe('parseGraphBody', () => {
  it('reads "" and blanks as {}, and a JSON object as itself', () => {
    expect(parseGraphBody('')).toEqual({});
    expect(parseGraphBody(' \n')).toEqual({});
    expect(parseGraphBody('{"name":"张三","tags":["a"]}')).toEqual({ name: '张三', tags: ['a'] });
  });

  it('names data.body when it is not a JSON object', () => {
    expectProtocolError(() => parseGraphBody('name=x', 'm1'), {
      field: 'data.body',
      expected: 'valid JSON text',
      messageId: 'm1',
    });
    expectProtocolError(() => parseGraphBody('[1]', 'm1'), {
      field: 'data.body',
      expected: 'a JSON object',
      messageId: 'm1',
    });
  });
});

describe('graphJsonResponse', () => {
  it('builds a 200 OK with a JSON body', () => {
    expect(graphJsonResponse(200, { text: '晴天' })).toEqual({
      statusLine: { code: 200, reasonPhrase: 'OK' },
      headers: { 'content-type': 'application/json' },
      body: '{"text":"晴天"}',
    });
  });

  it('uses the standard reason phrases, "UNKNOWN" for others, or the given one', () => {
    expect(graphJsonResponse(404, {}).statusLine).toEqual({ code: 404, reasonPhrase: 'NOT FOUND' });
    expect(graphJsonResponse(500, {}).statusLine).toEqual({ code: 500, reasonPhrase: 'INTERNAL ERROR' });
    expect(graphJsonResponse(418, {}).statusLine).toEqual({ code: 418, reasonPhrase: 'UNKNOWN' });
    expect(graphJsonResponse(400, {}, 'Bad date').statusLine).toEqual({
      code: 400,
      reasonPhrase: 'Bad date',
    });
  });

  it('writes an undefined body as "null"', () => {
    expect(graphJsonResponse(200, undefined).body).toBe('null');
  });
});

describe('parseGraphResponse', () => {
  it('reads a response exactly', () => {
    const res = graphJsonResponse(200, { text: '晴天' });
    expect(parseGraphResponse(JSON.parse(JSON.stringify(res)))).toEqual(res);
  });

  it('is lenient: numeric-string code, default reason, lower-cased headers, body object or null', () => {
    expect(
      parseGraphResponse({
        statusLine: { code: '404' },
        headers: { 'Content-Type': 'application/json', 'X-N': 1 },
        body: { error: 'no such customer' },
      }),
    ).toEqual({
      statusLine: { code: 404, reasonPhrase: 'NOT FOUND' },
      headers: { 'content-type': 'application/json' },
      body: '{"error":"no such customer"}',
    });
    expect(parseGraphResponse({ statusLine: { code: 299 }, headers: 'x', body: null })).toEqual({
      statusLine: { code: 299, reasonPhrase: '' },
      headers: {},
      body: '',
    });
  });

  it.each([
    ['null', null],
    ['a string', '200 OK'],
    ['an array', []],
  ])('names response when it is %s', (_label, value) => {
    expectProtocolError(() => parseGraphResponse(value), {
      field: 'response',
      expected: 'an object {statusLine, headers, body}',
    });
  });

  it('names response.statusLine when it is missing', () => {
    expectProtocolError(() => parseGraphResponse({ headers: {}, body: '' }), {
      field: 'response.statusLine',
      expected: 'an object {code, reasonPhrase}',
    });
  });

  it.each([
    ['missing', undefined],
    ['below 100', 99],
    ['above 599', 600],
    ['a fraction', 200.5],
    ['a word', 'OK'],
    ['an empty string', ''],
  ])('names response.statusLine.code when it is %s', (_label, code) => {
    expectProtocolError(() => parseGraphResponse({ statusLine: { code, reasonPhrase: 'OK' } }), {
      field: 'response.statusLine.code',
      expected: 'an HTTP status code',
    });
  });
});
