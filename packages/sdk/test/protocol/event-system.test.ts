import {
  decodeEvent,
  parseDownstreamFrame,
  readDisconnectReason,
  Topic,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { expectProtocolError } from './expect-protocol-error.js';

function eventFrame(headers: Record<string, string>, data: string) {
  return parseDownstreamFrame(
    JSON.stringify({
      specVersion: '1.0',
      type: 'EVENT',
      headers: { topic: '*', messageId: 'm-1', contentType: 'application/json', ...headers },
      data,
    }),
  );
}

describe('decodeEvent', () => {
  it('reads the event headers and parses the payload', () => {
    const frame = eventFrame(
      {
        eventId: 'ev-1',
        eventBornTime: '1690362102000',
        eventCorpId: 'dingcorp',
        eventType: 'user_add_org',
        eventUnifiedAppId: 'unified-1',
      },
      '{"userId":["u1"]}',
    );
    expect(decodeEvent(frame)).toEqual({
      id: 'ev-1',
      messageId: 'm-1',
      eventType: 'user_add_org',
      eventCorpId: 'dingcorp',
      eventBornTime: 1690362102000,
      eventUnifiedAppId: 'unified-1',
      headers: frame.headers,
      data: { userId: ['u1'] },
    });
  });

  it('dedupes on messageId when eventId is missing or empty', () => {
    expect(decodeEvent(eventFrame({}, '{}')).id).toBe('m-1');
    expect(decodeEvent(eventFrame({ eventId: '' }, '{}')).id).toBe('m-1');
  });

  it('reads a missing type as "", an unreadable born time as undefined, and data "" as {}', () => {
    const event = decodeEvent(eventFrame({ eventBornTime: 'yesterday' }, ''));
    expect(event.eventType).toBe('');
    expect(event.eventBornTime).toBeUndefined();
    expect(event.eventCorpId).toBeUndefined();
    expect(event.data).toEqual({});
  });

  it('names data, with the message id, when the payload is not a JSON object', () => {
    expectProtocolError(() => decodeEvent(eventFrame({}, '[1]')), {
      field: 'data',
      expected: 'a JSON object',
      messageId: 'm-1',
    });
    expectProtocolError(() => decodeEvent(eventFrame({}, 'userId=u1')), {
      field: 'data',
      expected: 'valid JSON text',
      messageId: 'm-1',
    });
  });
});

describe('readDisconnectReason', () => {
  it('reads the reason quoted from real traffic', () => {
    expect(readDisconnectReason('{"reason":"persistent connection is timeout"}')).toBe(
      'persistent connection is timeout',
    );
  });

  it.each([
    ['empty data', ''],
    ['data that is not JSON', 'timeout'],
    ['a JSON array', '["timeout"]'],
    ['a numeric reason', '{"reason":1}'],
    ['no reason', '{}'],
  ])('gives "" for %s', (_label, data) => {
    expect(readDisconnectReason(data)).toBe('');
  });
});

describe('Topic', () => {
  it('names the documented topics', () => {
    expect(Topic).toEqual({
      GraphInvoke: '/v1.0/graph/api/invoke',
      PluginCallback: '/v1.0/agi/plugins/callback',
      BotMessage: '/v1.0/im/bot/messages/get',
      BotDelegate: '/v1.0/im/bot/messages/delegate',
      CardCallback: '/v1.0/card/instances/callback',
      CardDynamicData: '/v1.0/card/dynamicData/get',
      AllEvents: '*',
      Ping: 'ping',
      Disconnect: 'disconnect',
    });
  });
});
