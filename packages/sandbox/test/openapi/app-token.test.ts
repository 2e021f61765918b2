import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { type PlatformHarness, startPlatform } from '../platform/harness.js';

let h: PlatformHarness;
beforeAll(async () => {
  h = await startPlatform();
});
afterAll(async () => {
  await h.close();
});

describe('POST /v1.0/oauth2/accessToken', () => {
  test('issues a 7200 s app token', async () => {
    const res = await h.call('/v1.0/oauth2/accessToken', {
      method: 'POST',
      json: { appKey: SEED_APP.clientId, appSecret: SEED_APP.clientSecret },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accessToken: expect.stringMatching(/^[0-9a-f]{32}$/), expireIn: 7200 });
  });

  test('a wrong secret or unknown app is 400 invalidClientIdOrSecret', async () => {
    for (const json of [
      { appKey: SEED_APP.clientId, appSecret: 'nope' },
      { appKey: 'nosuchapp', appSecret: SEED_APP.clientSecret },
    ]) {
      const res = await h.call('/v1.0/oauth2/accessToken', { method: 'POST', json });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalidClientIdOrSecret');
      expect(res.body.requestid).toBe(res.headers.get('x-acs-request-id'));
    }
  });

  test('a missing field is 400 Missing<field>; a non-object body is 400 InvalidParameter', async () => {
    const res = await h.call('/v1.0/oauth2/accessToken', {
      method: 'POST',
      json: { appKey: SEED_APP.clientId },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MissingappSecret');
    const arr = await h.call('/v1.0/oauth2/accessToken', { method: 'POST', json: [1] });
    expect(arr.status).toBe(400);
    expect(arr.body.code).toBe('InvalidParameter');
  });

  test('the app token expires after 7200 s on the sandbox clock', async () => {
    const { accessToken } = (
      await h.call('/v1.0/oauth2/accessToken', {
        method: 'POST',
        json: { appKey: SEED_APP.clientId, appSecret: SEED_APP.clientSecret },
      })
    ).body;
    const create = () =>
      h.call('/v1.0/todo/users/me/personalTasks', {
        method: 'POST',
        token: accessToken,
        json: { subject: 'x', executorIds: ['union-zhangsan'] },
      });
    expect((await create()).body.code).toBe('todo.taskCreate.tokenTypeError');
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 7200_000 } });
    expect((await create()).body.code).toBe('InvalidAuthentication');
  });
});

describe('legacy GET /gettoken', () => {
  test('answers errcode 0 with access_token and expires_in', async () => {
    const res = await h.call(
      `/gettoken?appkey=${SEED_APP.clientId}&appsecret=${encodeURIComponent(SEED_APP.clientSecret)}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      access_token: expect.stringMatching(/^[0-9a-f]{32}$/),
      expires_in: 7200,
    });
  });

  test('errors are HTTP 200 with a non-zero errcode', async () => {
    const bad = await h.call(`/gettoken?appkey=${SEED_APP.clientId}&appsecret=wrong`);
    expect(bad.status).toBe(200);
    expect(bad.body.errcode).toBe(40089);
    const missing = await h.call('/gettoken?appkey=x');
    expect(missing.status).toBe(200);
    expect(missing.body.errcode).toBe(40035);
    expect(missing.body.errmsg).toContain('appsecret');
  });
});
