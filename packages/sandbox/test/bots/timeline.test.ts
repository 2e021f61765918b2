/**
 * What the page's bot chats read: `GET /sandbox/bots/chats` (the user's single chat and the group) and
 * a conversation's timeline (its lines and the cards delivered into it, in order, with a change stamp),
 * over HTTP against a sandbox; and how a card callback's answer becomes a card update.
 */

import { silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardUpdateOf, createSandbox, type Sandbox, SEED_APP, type TimelineItem } from '../../src/index.js';

let sandbox: Sandbox;
let token: string;

interface Timeline {
  id: string;
  kind: string;
  members: string[];
  lastUserMsgId: string | null;
  stamp: string;
  items: TimelineItem[];
}

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: {
      'x-sandbox-client': 'test',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const cardApi = (method: string, path: string, body: unknown) =>
  call(method, path, body, { 'x-acs-dingtalk-access-token': token });

const AI_PARAMS = { flowStatus: '1', msgContent: '' };

async function deliveredCard(
  outTrackId: string,
  openSpaceId: string,
  templateId = 'ai.schema',
  params: Record<string, string> = AI_PARAMS,
) {
  const created = await cardApi('POST', '/v1.0/card/instances/createAndDeliver', {
    cardTemplateId: templateId,
    outTrackId,
    cardData: { cardParamMap: params },
    openSpaceId,
    imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: SEED_APP.clientId },
    imGroupOpenDeliverModel: { robotCode: SEED_APP.clientId },
  });
  expect(created.status).toBe(200);
}

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  const res = await call<{ accessToken: string }>('POST', '/v1.0/oauth2/accessToken', {
    appKey: SEED_APP.clientId,
    appSecret: SEED_APP.clientSecret,
  });
  token = res.body.accessToken;
});
afterAll(async () => {
  await sandbox?.close();
});

describe('GET /sandbox/bots/chats', () => {
  it("lists the user's single chat with the bot and the group with every seed user", async () => {
    const res = await call<{ clientId: string; chats: Timeline[] }>(
      'GET',
      '/sandbox/bots/chats?userId=zhangsan',
    );
    expect(res.status).toBe(200);
    expect(res.body.clientId).toBe(SEED_APP.clientId);
    const [single, group] = res.body.chats;
    expect(single).toMatchObject({ kind: 'single', members: ['zhangsan'], items: [], lastUserMsgId: null });
    expect(group).toMatchObject({ kind: 'group', items: [] });
    expect(group!.members).toEqual(expect.arrayContaining(['zhangsan', 'lisi']));
  });

  it('refuses an unknown user, an unknown app and a missing userId', async () => {
    const unknownUser = await call('GET', '/sandbox/bots/chats?userId=mallory');
    expect(unknownUser).toMatchObject({ status: 404, body: { code: 'unknownUser', field: 'userId' } });
    const unknownApp = await call('GET', '/sandbox/bots/chats?userId=zhangsan&clientId=nope');
    expect(unknownApp).toMatchObject({ status: 404, body: { code: 'unknownApp', field: 'clientId' } });
    expect((await call('GET', '/sandbox/bots/chats')).status).toBe(400);
    expect((await call('GET', '/sandbox/bots/conversations/cidNope/timeline')).status).toBe(404);
  });
});

describe('a conversation timeline', () => {
  it("merges lines and the cards delivered into this chat (not another user's), in order", async () => {
    // No app is connected: the line is recorded, the delivery fails.
    const sent = await call<{ msgId: string; conversationId: string; delivery: { status: string } }>(
      'POST',
      '/sandbox/bots/messages',
      { from: 'zhangsan', text: 'hello' },
    );
    expect(sent.status).toBe(200);
    expect(sent.body.delivery.status).not.toBe('answered');
    await deliveredCard('tl-mine', 'dtv1.card//IM_ROBOT.zhangsan');
    await deliveredCard('tl-other-user', 'dtv1.card//IM_ROBOT.lisi');
    await deliveredCard('tl-group', 'dtv1.card//IM_GROUP.cidGroupSandbox0001', 'confirm.schema', {
      title: '确认? Confirm',
    });

    const path = `/sandbox/bots/conversations/${sent.body.conversationId}/timeline`;
    const first = (await call<Timeline>('GET', path)).body;
    expect(first.lastUserMsgId).toBe(sent.body.msgId);
    expect(first.items.map((i) => (i.type === 'card' ? i.outTrackId : i.text))).toEqual(['hello', 'tl-mine']);
    expect(first.items[1]).toMatchObject({ type: 'card', ai: true, flowStatus: '1', text: '' });

    // A streamed frame changes the card and the stamp.
    const frame = await cardApi('PUT', '/v1.0/card/streaming', {
      outTrackId: 'tl-mine',
      guid: 'g1',
      key: 'msgContent',
      content: '<img src=x onerror=alert(1)>',
      isFull: true,
    });
    expect(frame.status).toBe(200);
    const second = (await call<Timeline>('GET', path)).body;
    expect(second.stamp).not.toBe(first.stamp);
    expect(second.items[1]).toMatchObject({ text: '<img src=x onerror=alert(1)>' }); // carried verbatim

    const group = await call<{ chats: Timeline[] }>('GET', '/sandbox/bots/chats?userId=lisi');
    const groupItems = group.body.chats[1]!.items;
    expect(groupItems).toHaveLength(1);
    // Its own template, never streamed: not an AI card (the page shows params and buttons).
    expect(groupItems[0]).toMatchObject({ type: 'card', outTrackId: 'tl-group', ai: false });
  });
});

describe('cardUpdateOf (a card callback answer -> the card update)', () => {
  it('reads cardData.cardParamMap, merges by key only when asked, JSON-encodes non-strings', () => {
    expect(
      cardUpdateOf({
        cardUpdateOptions: { updateCardDataByKey: true },
        cardData: { cardParamMap: { status: 'done', n: 2 } },
      }),
    ).toEqual({ params: { status: 'done', n: '2' }, byKey: true });
    expect(cardUpdateOf({ cardData: { cardParamMap: { a: 'b' } } })).toEqual({
      params: { a: 'b' },
      byKey: false,
    });
    for (const none of [null, 'x', {}, { cardData: {} }, { cardData: { cardParamMap: ['a'] } }])
      expect(cardUpdateOf(none)).toBeUndefined();
  });
});
