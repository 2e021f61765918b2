import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SEED_APP, SEED_CORP } from '../../src/seed.js';
import { type PlatformHarness, startPlatform, userTokens } from '../platform/harness.js';

const MIN = 60_000;
const DAY = 86_400_000;
const client: { clientId: string; clientSecret: string } = {
  clientId: SEED_APP.clientId,
  clientSecret: SEED_APP.clientSecret,
};

let h: PlatformHarness;
beforeEach(async () => {
  h = await startPlatform();
});
afterEach(async () => {
  await h.close();
});

const authorize = async (scopes = ['openid']) =>
  (
    await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: { userId: 'zhangsan', clientId: SEED_APP.clientId, scopes },
    })
  ).body.code as string;
const exchange = (code: string, creds = client) =>
  h.call('/v1.0/oauth2/userAccessToken', {
    method: 'POST',
    json: { ...creds, code, grantType: 'authorization_code' },
  });
const refresh = (refreshToken: string) =>
  h.call('/v1.0/oauth2/userAccessToken', {
    method: 'POST',
    json: { ...client, refreshToken, grantType: 'refresh_token' },
  });
const me = (token: string) => h.call('/v1.0/contact/users/me', { token });

describe('authorization code exchange', () => {
  test('returns a 32-hex access token, a refresh token, expireIn 7200 and the corpId', async () => {
    const res = await exchange(await authorize());
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body.refreshToken).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body.refreshToken).not.toBe(res.body.accessToken);
    expect(res.body.expireIn).toBe(7200);
    expect(res.body.corpId).toBe(SEED_CORP.corpId);
    expect((await me(res.body.accessToken)).status).toBe(200);
  });

  test('a code is single use: the second exchange is 400 invalidParameter.authCode.notFound', async () => {
    const code = await authorize();
    expect((await exchange(code)).status).toBe(200);
    const again = await exchange(code);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('invalidParameter.authCode.notFound');
    expect(again.body.requestid).toMatch(/^[0-9A-F-]{36}$/);
  });

  test('an unknown code is 400 invalidParameter.authCode.notFound', async () => {
    const res = await exchange('0123456789abcdef0123456789abcdef');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalidParameter.authCode.notFound');
  });

  test('a code expires after 5 minutes on the sandbox clock', async () => {
    const fresh = await authorize();
    const stale = await authorize();
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 4 * MIN } });
    expect((await exchange(fresh)).status).toBe(200);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 1 * MIN + 1 } });
    const res = await exchange(stale);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalidParameter.authCode.notFound');
  });

  test('bad client credentials are 400 invalidClientIdOrSecret (checked before the code is spent)', async () => {
    const code = await authorize();
    const bad = await exchange(code, { clientId: SEED_APP.clientId, clientSecret: 'wrong' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalidClientIdOrSecret');
    const unknown = await exchange(code, { clientId: 'nosuchapp', clientSecret: 'x' });
    expect(unknown.body.code).toBe('invalidClientIdOrSecret');
    expect((await exchange(code)).status).toBe(200);
  });

  test('a code issued to one app cannot be exchanged by another', async () => {
    await h.call('/sandbox/apps', {
      method: 'POST',
      json: {
        clientId: 'otherapp',
        clientSecret: 'other-secret',
        name: 'Other',
        redirectUris: ['https://other.example/cb'],
      },
    });
    const code = await authorize();
    const res = await exchange(code, { clientId: 'otherapp', clientSecret: 'other-secret' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalidParameter.authCode.notFound');
  });

  test('missing fields answer Missing<field>; a bad grantType answers InvalidParameter', async () => {
    const noSecret = await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId, code: 'x', grantType: 'authorization_code' },
    });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.code).toBe('MissingclientSecret');
    const noCode = await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: { ...client, grantType: 'authorization_code' },
    });
    expect(noCode.body.code).toBe('Missingcode');
    const badGrant = await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: { ...client, code: 'x', grantType: 'password' },
    });
    expect(badGrant.status).toBe(400);
    expect(badGrant.body.code).toBe('InvalidParameter');
    expect(badGrant.body.message).toContain('grantType');
  });
});

describe('refresh', () => {
  test('rotates: the new pair works, the old refresh token is rejected', async () => {
    const first = await userTokens(h, 'zhangsan', ['openid']);
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).toMatch(/^[0-9a-f]{32}$/);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await me(second.body.accessToken)).status).toBe(200);

    const reused = await refresh(first.refreshToken);
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('invalidParameter.refreshToken.notFound');
    expect((await refresh(second.body.refreshToken)).status).toBe(200);
  });

  test('within validity a refresh answers the same access token, renewed for 7200 s; after expiry a new one', async () => {
    const first = await userTokens(h, 'zhangsan', ['openid']);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 100 * MIN } });
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.accessToken).toBe(first.accessToken);
    expect(second.body.expireIn).toBe(7200);
    // Renewed: 100 min later the token would have expired at 120 min; it is still good at 200 min.
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 100 * MIN } });
    expect((await me(first.accessToken)).status).toBe(200);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 21 * MIN } });
    expect((await me(first.accessToken)).body.code).toBe('InvalidAuthentication');
    // Expired now: the next refresh answers a new access token.
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);
    expect(third.body.accessToken).not.toBe(first.accessToken);
    expect((await me(third.body.accessToken)).status).toBe(200);
    // An access token expired by the control API is not renewed either.
    await h.call('/sandbox/users/zhangsan/expire-token', { method: 'POST', json: {} });
    const fourth = await refresh(third.body.refreshToken);
    expect(fourth.body.accessToken).not.toBe(third.body.accessToken);
  });

  test('stats count code exchanges and refreshes per app and user (exactly one refresh)', async () => {
    const t = await userTokens(h, 'zhangsan', ['openid']);
    await refresh(t.refreshToken);
    await refresh(t.refreshToken); // rotated: fails
    const stats = await h.call('/sandbox/stats/tokens?userId=zhangsan');
    expect(stats.status).toBe(200);
    expect(stats.body.byAppUser).toEqual([
      {
        clientId: SEED_APP.clientId,
        userId: 'zhangsan',
        authorizationCode: 1,
        refreshToken: 1,
        authorizationCodeFailed: 0,
        refreshTokenFailed: 1,
      },
    ]);
    const all = await h.call('/sandbox/stats/tokens');
    expect(all.body.totals).toEqual({
      authorizationCode: 1,
      refreshToken: 1,
      authorizationCodeFailed: 0,
      refreshTokenFailed: 1,
    });
  });

  test('a refresh token expires after 30 days', async () => {
    const a = await userTokens(h, 'zhangsan', ['openid']);
    const b = await userTokens(h, 'zhangsan', ['openid']);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 30 * DAY - MIN } });
    expect((await refresh(a.refreshToken)).status).toBe(200);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 2 * MIN } });
    const late = await refresh(b.refreshToken);
    expect(late.status).toBe(400);
    expect(late.body.code).toBe('invalidParameter.refreshToken.notFound');
  });

  test('an unknown refresh token and one of a revoked grant are rejected', async () => {
    expect((await refresh('ffffffffffffffffffffffffffffffff')).body.code).toBe(
      'invalidParameter.refreshToken.notFound',
    );
    const t = await userTokens(h, 'zhangsan', ['openid']);
    await h.call('/sandbox/users/zhangsan/revoke', { method: 'POST', json: { clientId: SEED_APP.clientId } });
    const res = await refresh(t.refreshToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalidParameter.refreshToken.notFound');
  });
});

describe('access token checks', () => {
  test('no header: 400 AuthenticationFailed.MissingParameter', async () => {
    const res = await h.call('/v1.0/contact/users/me');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('AuthenticationFailed.MissingParameter');
  });

  test('an unknown token: 400 InvalidAuthentication 不合法的access_token', async () => {
    const res = await me('00000000000000000000000000000000');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'InvalidAuthentication', message: '不合法的access_token' });
  });

  test('an access token expires after 7200 s on the sandbox clock', async () => {
    const t = await userTokens(h, 'zhangsan', ['openid']);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 7200_000 - MIN } });
    expect((await me(t.accessToken)).status).toBe(200);
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: MIN } });
    const res = await me(t.accessToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidAuthentication');
    // The refresh token outlives it.
    expect((await refresh(t.refreshToken)).status).toBe(200);
  });

  test('expire-token expires the user’s access tokens now, and only theirs', async () => {
    const zhang = await userTokens(h, 'zhangsan', ['openid']);
    const li = await userTokens(h, 'lisi', ['openid']);
    const res = await h.call('/sandbox/users/zhangsan/expire-token', { method: 'POST', json: {} });
    expect(res.body).toEqual({ expired: 1 });
    expect((await me(zhang.accessToken)).body.code).toBe('InvalidAuthentication');
    expect((await me(li.accessToken)).status).toBe(200);
  });

  test('expire-token with includeRefresh also expires the refresh tokens (as if 30 days passed)', async () => {
    const zhang = await userTokens(h, 'zhangsan', ['openid']);
    const li = await userTokens(h, 'lisi', ['openid']);
    const res = await h.call('/sandbox/users/zhangsan/expire-token', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId, includeRefresh: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ expired: 1, refreshExpired: 1 });
    expect((await me(zhang.accessToken)).body.code).toBe('InvalidAuthentication');
    const refused = await refresh(zhang.refreshToken);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('invalidParameter.refreshToken.notFound');
    // lisi's pair is untouched; the grant stays, so a new consent gives a working pair again.
    expect((await me(li.accessToken)).status).toBe(200);
    expect((await refresh(li.refreshToken)).status).toBe(200);
    const again = await userTokens(h, 'zhangsan', ['openid']);
    expect((await me(again.accessToken)).status).toBe(200);
    // Without the option only access tokens expire: the new refresh token still works.
    const accessOnly = await h.call('/sandbox/users/zhangsan/expire-token', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId },
    });
    expect(accessOnly.body).toEqual({ expired: 1 });
    expect((await refresh(again.refreshToken)).status).toBe(200);
  });

  test('expire-token: an unknown app is 404, a non-boolean includeRefresh is 400', async () => {
    const unknownApp = await h.call('/sandbox/users/zhangsan/expire-token', {
      method: 'POST',
      json: { clientId: 'nope', includeRefresh: true },
    });
    expect(unknownApp.status).toBe(404);
    expect(unknownApp.body).toMatchObject({ code: 'notFound', field: 'clientId' });
    const bad = await h.call('/sandbox/users/zhangsan/expire-token', {
      method: 'POST',
      json: { includeRefresh: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalidParameter', field: 'includeRefresh' });
  });

  test('a scope not granted: 403 AccessTokenPermissionDenied naming requiredScopes', async () => {
    const t = await userTokens(h, 'zhangsan', ['openid']);
    const res = await h.call('/v1.0/todo/users/me/personalTasks', {
      method: 'POST',
      token: t.accessToken,
      json: { subject: 'x', executorIds: ['union-zhangsan'] },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('Forbidden.AccessDenied.AccessTokenPermissionDenied');
    expect(res.body.accessdenieddetail).toEqual({ requiredScopes: ['Todo.PersonalTodo.Write'] });
  });

  test('revoking the grant turns a live token into 403', async () => {
    const t = await userTokens(h, 'zhangsan', ['openid']);
    expect((await me(t.accessToken)).status).toBe(200);
    const revoked = await h.call('/sandbox/users/zhangsan/revoke', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId },
    });
    expect(revoked.body.grant.revokedAt).toBeTypeOf('number');
    const res = await me(t.accessToken);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('Forbidden.AccessDenied.AccessTokenPermissionDenied');
    expect(res.body.accessdenieddetail.requiredScopes).toEqual(['Contact.User.Read']);
  });

  test('remove-scope takes one permission away from live tokens', async () => {
    const t = await userTokens(h, 'zhangsan', ['openid', 'Todo.Todo.Read']);
    const list = () =>
      h.call('/v1.0/todo/users/me/tasks/list', { method: 'POST', token: t.accessToken, json: {} });
    expect((await list()).status).toBe(200);
    const res = await h.call('/sandbox/users/zhangsan/remove-scope', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId, scope: 'Todo.Todo.Read' },
    });
    expect(res.body.grant.scopes).not.toContain('Todo.Todo.Read');
    const denied = await list();
    expect(denied.status).toBe(403);
    expect(denied.body.accessdenieddetail.requiredScopes).toEqual(['Todo.Todo.Read']);
    expect((await me(t.accessToken)).status).toBe(200);
  });

  test('consenting again adds scopes to the grant (union); after a revoke it starts over', async () => {
    await userTokens(h, 'zhangsan', ['openid', 'Todo.Todo.Read']);
    const t = await userTokens(h, 'zhangsan', ['Calendar.Event.Read']);
    const grants = await h.call('/sandbox/grants?userId=zhangsan');
    expect(grants.body.grants[0].scopes).toEqual([
      'openid',
      'Todo.Todo.Read',
      'Contact.User.Read',
      'Calendar.Event.Read',
    ]);
    expect(
      (await h.call('/v1.0/todo/users/me/tasks/list', { method: 'POST', token: t.accessToken, json: {} }))
        .status,
    ).toBe(200);
    await h.call('/sandbox/users/zhangsan/revoke', { method: 'POST', json: { clientId: SEED_APP.clientId } });
    await userTokens(h, 'zhangsan', ['Calendar.Event.Read']);
    const after = await h.call('/sandbox/grants?userId=zhangsan');
    expect(after.body.grants[0].scopes).toEqual(['Calendar.Event.Read']);
    expect(after.body.grants[0].revokedAt).toBeNull();
  });

  test('granted scopes: GET /v1.0/oauth2/authRules/user', async () => {
    const t = await userTokens(h, 'zhangsan', ['openid', 'Todo.Todo.Read']);
    const res = await h.call('/v1.0/oauth2/authRules/user', { token: t.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: [{ resource: 'rpc_auth', authItems: ['Todo.Todo.Read', 'Contact.User.Read'] }],
    });
  });
});
