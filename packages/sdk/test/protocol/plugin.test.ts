import {
  type PluginRequest,
  parsePluginRequest,
  pluginResponse,
  serializePluginRequest,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { expectProtocolError } from './expect-protocol-error.js';

const REQUEST = {
  abilityKey: 'queryWeather',
  data: { location: '杭州', date: '2021-10-1', accessToken: 'user-token' },
  pluginId: 'AI-plugin-1',
  pluginVersion: '1.0.0',
  requestId: 'req-1',
};

/** The `data` of a legacy plugin CALLBACK: REQUEST with `patch` merged over it. */
function data(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...REQUEST, ...patch });
}

describe('parsePluginRequest: valid requests', () => {
  it('reads a legacy AI plugin request exactly', () => {
    expect(parsePluginRequest(data(), 'm1')).toEqual(REQUEST);
  });

  it('parses data sent as a JSON string', () => {
    expect(parsePluginRequest(data({ data: '{"location":"杭州"}' })).data).toEqual({ location: '杭州' });
  });

  it('reads data missing, null, "" or blank as {}', () => {
    for (const payload of [undefined, null, '', '  ']) {
      expect(parsePluginRequest(data({ data: payload })).data).toEqual({});
    }
  });

  it('reads pluginId and pluginVersion missing or null as ""', () => {
    expect(parsePluginRequest(data({ pluginId: undefined, pluginVersion: null }))).toEqual({
      ...REQUEST,
      pluginId: '',
      pluginVersion: '',
    });
  });
});

describe('parsePluginRequest: bad requests', () => {
  it('names data when it is not a JSON object', () => {
    expectProtocolError(() => parsePluginRequest('abilityKey=x', 'm1'), {
      field: 'data',
      expected: 'valid JSON text',
      messageId: 'm1',
    });
    expectProtocolError(() => parsePluginRequest('[]', 'm1'), {
      field: 'data',
      expected: 'a JSON object',
      messageId: 'm1',
    });
  });

  it.each([
    ['abilityKey', undefined],
    ['abilityKey', ''],
    ['abilityKey', 3],
    ['requestId', undefined],
    ['requestId', ''],
    ['requestId', null],
  ])('names data.%s when it is %j', (key, value) => {
    expectProtocolError(() => parsePluginRequest(data({ [key]: value }), 'm1'), {
      field: `data.${key}`,
      expected: 'a non-empty string',
      messageId: 'm1',
    });
  });

  it.each([
    ['pluginId', 1],
    ['pluginVersion', { major: 1 }],
  ])('names data.%s when it is %j', (key, value) => {
    expectProtocolError(() => parsePluginRequest(data({ [key]: value }), 'm1'), {
      field: `data.${key}`,
      expected: 'a string',
      messageId: 'm1',
    });
  });

  it.each([
    ['an array', [1]],
    ['a number', 1],
  ])('names data.data when it is %s', (_label, payload) => {
    expectProtocolError(() => parsePluginRequest(data({ data: payload }), 'm1'), {
      field: 'data.data',
      expected: 'an object',
      messageId: 'm1',
    });
  });

  it('names data.data when the string it holds is not a JSON object', () => {
    expectProtocolError(() => parsePluginRequest(data({ data: '{location' }), 'm1'), {
      field: 'data.data',
      expected: 'valid JSON text',
      messageId: 'm1',
    });
    expectProtocolError(() => parsePluginRequest(data({ data: '"杭州"' }), 'm1'), {
      field: 'data.data',
      expected: 'a JSON object',
      messageId: 'm1',
    });
  });
});

describe('serializePluginRequest and pluginResponse', () => {
  it('serializes a request that parses back unchanged', () => {
    const req: PluginRequest = REQUEST;
    const text = serializePluginRequest(req);
    expect(text).toBe(
      '{"abilityKey":"queryWeather","data":{"location":"杭州","date":"2021-10-1","accessToken":"user-token"},"pluginId":"AI-plugin-1","pluginVersion":"1.0.0","requestId":"req-1"}',
    );
    expect(parsePluginRequest(text)).toEqual(req);
  });

  it('answers {requestId, result}; undefined becomes null', () => {
    expect(pluginResponse('req-1', { text: '晴天' })).toEqual({
      requestId: 'req-1',
      result: { text: '晴天' },
    });
    expect(pluginResponse('req-1', undefined)).toEqual({ requestId: 'req-1', result: null });
  });
});
