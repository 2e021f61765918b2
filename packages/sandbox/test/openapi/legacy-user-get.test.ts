/**
 * `POST /topapi/v2/user/get` (legacy oapi): the unionId of a user by userId, with an app token only.
 * How a bot turns a message's `senderStaffId` into the key of the sender's stored token.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { type PlatformHarness, startPlatform, userTokens } from '../platform/harness.js';

let h: PlatformHarness;
let appToken = '';
beforeAll(async () => {
  h = await startPlatform();
  const res = await h.call(`/gettoken?appkey=${SEED_APP.clientId}&appsecret=${SEED_APP.clientSecret}`);
  appToken = res.body.access_token;
});
afterAll(async () => {
  await h.close();
});

const userGet = (token: string, json: unknown) =>
  h.call(`/topapi/v2/user/get?access_token=${encodeURIComponent(token)}`, { method: 'POST', json });

describe('POST /topapi/v2/user/get', () => {
  test('an app token and a known userid: errcode 0 with the unionid', async () => {
    const res = await userGet(appToken, { userid: 'lisi', language: 'zh_CN' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ errcode: 0, result: { userid: 'lisi', unionid: 'union-lisi' } });
  });

  test('refusals answer HTTP 200 with an errcode: unknown user, missing userid, bad or user token', async () => {
    expect((await userGet(appToken, { userid: 'nobody' })).body.errcode).toBe(60121);
    expect((await userGet(appToken, {})).body.errcode).toBe(40035);
    expect((await userGet('not-a-token', { userid: 'lisi' })).body.errcode).toBe(40014);
    const { accessToken } = await userTokens(h, 'zhangsan', ['openid']);
    const asUser = await userGet(accessToken, { userid: 'lisi' });
    expect(asUser.status).toBe(200);
    expect(asUser.body.errcode).toBe(40014);
    expect(asUser.body.result).toBeUndefined();
  });
});
