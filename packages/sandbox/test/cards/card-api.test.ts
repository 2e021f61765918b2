/**
 * The sandbox's emulated card APIs over HTTP: create + deliver, createAndDeliver, streaming (full and
 * append), update by key, the card QPS limit's 403 body, and the refusals (missing fields, user token,
 * another app's card, a bad openSpaceId, streaming after finalize). The control API shows each card's
 * state and history.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { type PlatformHarness, startPlatform, userTokens } from '../platform/harness.js';

const OTHER = { clientId: 'dingotherapp002', clientSecret: 'other-secret' };
let h: PlatformHarness;
let appToken: string;
let otherToken: string;

async function tokenOf(app: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await h.call('/v1.0/oauth2/accessToken', {
    method: 'POST',
    json: { appKey: app.clientId, appSecret: app.clientSecret },
  });
  return res.body.accessToken;
}

const ctl = { 'x-sandbox-client': 'test' };
let seq = 0;
const nextId = () => `card-${++seq}-${Date.now()}`;

const create = (outTrackId: string, token = appToken, extra: Record<string, unknown> = {}) =>
  h.call('/v1.0/card/instances', {
    method: 'POST',
    token,
    json: {
      cardTemplateId: 'tpl.schema',
      outTrackId,
      cardData: { cardParamMap: { flowStatus: '1', msgContent: '' } },
      ...extra,
    },
  });
const deliver = (outTrackId: string, openSpaceId: string, models: Record<string, unknown>) =>
  h.call('/v1.0/card/instances/deliver', {
    method: 'POST',
    token: appToken,
    json: { outTrackId, openSpaceId, ...models },
  });
const stream = (outTrackId: string, content: string, extra: Record<string, unknown> = {}, token = appToken) =>
  h.call('/v1.0/card/streaming', {
    method: 'PUT',
    token,
    json: { outTrackId, guid: `g-${Math.random()}`, key: 'msgContent', content, isFull: true, ...extra },
  });
const card = (outTrackId: string) => h.call(`/sandbox/cards/${outTrackId}`);

beforeAll(async () => {
  h = await startPlatform({ apps: [{ ...OTHER, name: 'Other app' }] });
  appToken = await tokenOf(SEED_APP);
  otherToken = await tokenOf(OTHER);
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.call('/sandbox/cards/qps-limit', { method: 'PUT', json: { qps: 0 } });
});

describe('card APIs', () => {
  test('create, deliver to the single chat, stream, update: the control API shows state and history', async () => {
    const id = nextId();
    expect((await create(id)).body).toEqual({ success: true, result: id });
    const d = await deliver(id, `dtv1.card//IM_ROBOT.zhangsan`, {
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: SEED_APP.clientId },
    });
    expect(d.body).toMatchObject({
      success: true,
      result: [{ spaceType: 'IM_ROBOT', spaceId: 'zhangsan', success: true }],
    });
    expect((await stream(id, '你好')).body).toEqual({ success: true, result: true });
    expect((await stream(id, '，世界', { isFull: false })).status).toBe(200); // append
    const up = await h.call('/v1.0/card/instances', {
      method: 'PUT',
      token: appToken,
      json: {
        outTrackId: id,
        cardData: { cardParamMap: { flowStatus: '3' } },
        cardUpdateOptions: { updateCardDataByKey: true },
      },
    });
    expect(up.body).toEqual({ success: true, result: true });
    const c = (await card(id)).body;
    expect(c).toMatchObject({
      outTrackId: id,
      clientId: SEED_APP.clientId,
      flowStatus: '3',
      text: '你好，世界',
    });
    expect(c.history.map((x: { api: string }) => x.api)).toEqual([
      'create',
      'deliver',
      'streaming',
      'streaming',
      'update',
    ]);
    expect(
      (await h.call(`/sandbox/cards?spaceId=zhangsan`)).body.cards.map(
        (x: { outTrackId: string }) => x.outTrackId,
      ),
    ).toContain(id);
  });

  test('createAndDeliver to a group in one call', async () => {
    const id = nextId();
    const res = await h.call('/v1.0/card/instances/createAndDeliver', {
      method: 'POST',
      token: appToken,
      json: {
        cardTemplateId: 'tpl.schema',
        outTrackId: id,
        cardData: { cardParamMap: { msgContent: '' } },
        openSpaceId: 'dtv1.card//im_group.cidXYZ==',
        imGroupOpenDeliverModel: { robotCode: SEED_APP.clientId },
      },
    });
    expect(res.body).toMatchObject({
      success: true,
      result: {
        outTrackId: id,
        deliverResults: [{ spaceType: 'IM_GROUP', spaceId: 'cidXYZ==', success: true }],
      },
    });
  });

  test('a delivery to an unknown user fails inside a 200 (success false), as DingTalk does', async () => {
    const id = nextId();
    await create(id);
    const d = await deliver(id, 'dtv1.card//IM_ROBOT.nobody', {
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
    });
    expect(d.status).toBe(200);
    expect(d.body.result[0]).toMatchObject({ success: false, spaceId: 'nobody' });
  });

  test('refusals: missing fields, bad openSpaceId, missing deliver model, undelivered card, after finalize', async () => {
    const id = nextId();
    expect(
      (await h.call('/v1.0/card/instances', { method: 'POST', token: appToken, json: { outTrackId: id } }))
        .body.code,
    ).toBe('param.cardTemplateIdEmpty');
    expect((await create(id, appToken, { cardData: {} })).body.code).toBe('param.cardPublicDataEmpty');
    await create(id);
    expect((await stream(id, 'x')).body.code).toBe('param.cardNotDelivered');
    expect((await deliver(id, 'IM_ROBOT.zhangsan', { imRobotOpenDeliverModel: {} })).body.code).toBe(
      'param.openSpaceIdInvalid',
    );
    expect((await deliver(id, 'dtv1.card//IM_ROBOT.zhangsan', {})).body.code).toBe(
      'param.spaceDeliverModelEmpty',
    );
    await deliver(id, 'dtv1.card//IM_ROBOT.zhangsan', { imRobotOpenDeliverModel: {} });
    expect((await stream(id, 'done', { isFinalize: true })).status).toBe(200);
    const late = await stream(id, 'late');
    expect(late.status).toBe(400);
    expect(late.body.code).toBe('param.streamingFinalized');
  });

  test("another app cannot see, stream into or re-create an app's card; a user token is refused", async () => {
    const id = nextId();
    await create(id);
    await deliver(id, 'dtv1.card//IM_ROBOT.lisi', { imRobotOpenDeliverModel: {} });
    const hijack = await stream(id, '被篡改 hijacked', {}, otherToken);
    expect(hijack.status).toBe(400);
    expect(hijack.body.code).toBe('param.cardNotExist');
    expect((await create(id, otherToken)).body.code).toBe('param.outTrackIdDuplicated');
    const user = (await userTokens(h, 'zhangsan', ['openid'])).accessToken;
    const asUser = await stream(id, 'as user', {}, user);
    expect(asUser.status).toBe(400);
    expect(asUser.body.code).toBe('InvalidAuthentication');
    expect((await card(id)).body.text).toBe('');
    expect((await h.call('/v1.0/card/streaming', { method: 'PUT', json: { outTrackId: id } })).status).toBe(
      400,
    );
  });

  test("the card QPS limit answers DingTalk's 403 body and the meter counts it; the limit is a control API fault", async () => {
    const set = await h.call('/sandbox/cards/qps-limit', { method: 'PUT', json: { qps: 2 } });
    expect(set.body).toEqual({ qps: 2 });
    await h.call('/sandbox/cards/stats', { method: 'DELETE', headers: ctl });
    const ids = [nextId(), nextId(), nextId(), nextId()];
    const results = await Promise.all(ids.map((id) => create(id)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 403, 403]);
    const limited = results.find((r) => r.status === 403)!;
    expect(limited.body).toMatchObject({
      code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
      requestid: expect.any(String),
    });
    const stats = (await h.call('/sandbox/cards/stats')).body;
    expect(stats).toMatchObject({
      limitQps: 2,
      calls: 4,
      qpsRejected: 2,
      maxAcceptedQps: 2,
      maxArrivalQps: 4,
    });
    // Another app has its own budget.
    expect((await create(nextId(), otherToken)).status).toBe(200);
  });

  test('control API: unknown card is 404, bad limit is 400', async () => {
    expect((await card('nope')).status).toBe(404);
    const bad = await h.call('/sandbox/cards/qps-limit', { method: 'PUT', json: { qps: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('qps');
  });
});
