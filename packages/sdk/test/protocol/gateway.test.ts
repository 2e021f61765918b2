import {
  CONNECTIONS_OPEN_PATH,
  parseConnectionOpenRequest,
  parseConnectionOpenResponse,
  ticketUrl,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { catchProtocolError, expectProtocolError } from './expect-protocol-error.js';

const SECRET = 'app-secret-value-123';
const BODY = {
  clientId: 'dingapp',
  clientSecret: SECRET,
  subscriptions: [
    { type: 'EVENT', topic: '*' },
    { type: 'CALLBACK', topic: '/v1.0/graph/api/invoke' },
  ],
  ua: 'dingtalk-skills-node/0.1.0',
  localIp: '10.0.0.5,192.168.1.2',
};

/** A connections/open body: BODY with `patch` merged over it. */
function body(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...BODY, ...patch });
}

describe('parseConnectionOpenRequest', () => {
  it('is served at /v1.0/gateway/connections/open', () => {
    expect(CONNECTIONS_OPEN_PATH).toBe('/v1.0/gateway/connections/open');
  });

  it('reads the documented body exactly', () => {
    expect(parseConnectionOpenRequest(body())).toEqual(BODY);
  });

  it('reads the Go SDK body: SYSTEM subscriptions and extras as a map (values as strings) or null', () => {
    const subscriptions = [
      { type: 'SYSTEM', topic: 'ping' },
      { type: 'SYSTEM', topic: 'disconnect' },
      { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
    ];
    expect(parseConnectionOpenRequest(body({ subscriptions, extras: { region: 'cn', n: 2 } }))).toEqual({
      ...BODY,
      subscriptions,
      extras: { region: 'cn', n: '2' },
    });
    expect(parseConnectionOpenRequest(body({ extras: null })).extras).toBeNull();
  });

  it('leaves out optional fields that are missing or of the wrong type', () => {
    expect(parseConnectionOpenRequest(body({ ua: undefined, localIp: 5, extras: 'x' }))).toEqual({
      clientId: 'dingapp',
      clientSecret: SECRET,
      subscriptions: BODY.subscriptions,
    });
  });

  it('drops extra fields of a subscription', () => {
    const subs = [{ type: 'CALLBACK', topic: '/t', ack: true }];
    expect(parseConnectionOpenRequest(body({ subscriptions: subs })).subscriptions).toEqual([
      { type: 'CALLBACK', topic: '/t' },
    ]);
  });

  it('names the body when it is not a JSON object', () => {
    expectProtocolError(() => parseConnectionOpenRequest('<xml/>'), {
      field: 'body',
      expected: 'valid JSON text',
    });
    expectProtocolError(() => parseConnectionOpenRequest('[]'), { field: 'body', expected: 'a JSON object' });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 123],
  ])('names clientId when it is %s', (_label, clientId) => {
    expectProtocolError(() => parseConnectionOpenRequest(body({ clientId })), {
      field: 'clientId',
      expected: 'a non-empty string',
    });
  });

  it.each([
    ['missing', undefined, 'nothing'],
    ['empty', '', '"(hidden)"'],
    ['a number', 12345678, '"(hidden)"'],
  ])('names clientSecret when it is %s, never showing its value', (_label, clientSecret, got) => {
    const err = expectProtocolError(() => parseConnectionOpenRequest(body({ clientSecret })), {
      field: 'clientSecret',
      expected: 'a non-empty string',
    });
    expect(err.message).toBe(`clientSecret: expected a non-empty string, got ${got}`);
    expect(err.message).not.toContain('12345678');
  });

  it('never puts the secret in any error message', () => {
    const err = catchProtocolError(() => parseConnectionOpenRequest(body({ subscriptions: [] })));
    expect(err.message).not.toContain(SECRET);
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['an object', { type: 'EVENT', topic: '*' }],
  ])('names subscriptions when they are %s', (_label, subscriptions) => {
    expectProtocolError(() => parseConnectionOpenRequest(body({ subscriptions })), {
      field: 'subscriptions',
      expected: 'a non-empty array of {type, topic}',
    });
  });

  it('names the bad subscription by index', () => {
    expectProtocolError(
      () => parseConnectionOpenRequest(body({ subscriptions: [{ type: 'EVENT', topic: '*' }, 'CALLBACK'] })),
      { field: 'subscriptions[1]', expected: 'an object {type, topic}' },
    );
    expectProtocolError(
      () =>
        parseConnectionOpenRequest(
          body({
            subscriptions: [
              { type: 'EVENT', topic: '*' },
              { type: 'callback', topic: '/t' },
            ],
          }),
        ),
      { field: 'subscriptions[1].type', expected: 'one of EVENT, CALLBACK, SYSTEM' },
    );
    expectProtocolError(
      () => parseConnectionOpenRequest(body({ subscriptions: [{ type: 'CALLBACK', topic: '' }] })),
      {
        field: 'subscriptions[0].topic',
        expected: 'a non-empty string',
      },
    );
  });
});

describe('parseConnectionOpenResponse', () => {
  it('reads {endpoint, ticket} and ignores other fields', () => {
    expect(
      parseConnectionOpenResponse({
        endpoint: 'wss://wss-open-connection.dingtalk.com:443/connect',
        ticket: '7724109a-0000',
        requestid: 'r',
      }),
    ).toEqual({ endpoint: 'wss://wss-open-connection.dingtalk.com:443/connect', ticket: '7724109a-0000' });
    expect(parseConnectionOpenResponse({ endpoint: 'ws://127.0.0.1:1234/connect', ticket: 't' })).toEqual({
      endpoint: 'ws://127.0.0.1:1234/connect',
      ticket: 't',
    });
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['text', 'wss://x'],
  ])('names the body when it is %s', (_label, value) => {
    expectProtocolError(() => parseConnectionOpenResponse(value), {
      field: 'body',
      expected: 'an object {endpoint, ticket}',
    });
  });

  it.each([
    ['missing', undefined],
    ['an https URL', 'https://wss-open-connection.dingtalk.com/connect'],
    ['a host only', 'wss-open-connection.dingtalk.com'],
  ])('names endpoint when it is %s', (_label, endpoint) => {
    expectProtocolError(() => parseConnectionOpenResponse({ endpoint, ticket: 't' }), {
      field: 'endpoint',
      expected: 'a ws:// or wss:// URL',
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 7],
  ])('names ticket when it is %s', (_label, ticket) => {
    expectProtocolError(() => parseConnectionOpenResponse({ endpoint: 'wss://h/connect', ticket }), {
      field: 'ticket',
      expected: 'a non-empty string',
    });
  });
});

describe('ticketUrl', () => {
  it('appends the URL-encoded ticket', () => {
    expect(
      ticketUrl({ endpoint: 'wss://wss-open-connection.dingtalk.com:443/connect', ticket: '7724109a-ab' }),
    ).toBe('wss://wss-open-connection.dingtalk.com:443/connect?ticket=7724109a-ab');
    expect(ticketUrl({ endpoint: 'ws://127.0.0.1:80/connect', ticket: 'a b+c/=&d' })).toBe(
      'ws://127.0.0.1:80/connect?ticket=a%20b%2Bc%2F%3D%26d',
    );
  });

  it('joins with & when the endpoint already has a query', () => {
    expect(ticketUrl({ endpoint: 'ws://h/connect?region=cn', ticket: 't1' })).toBe(
      'ws://h/connect?region=cn&ticket=t1',
    );
  });

  it('keeps the ticket recoverable with URLSearchParams', () => {
    const ticket = '票据 +/=?&#%';
    const url = new URL(ticketUrl({ endpoint: 'wss://h:443/connect', ticket }));
    expect(url.searchParams.get('ticket')).toBe(ticket);
    expect(url.pathname).toBe('/connect');
  });
});
