import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { type PlatformHarness, REDIRECT, startPlatform } from '../platform/harness.js';

let h: PlatformHarness;
beforeEach(async () => {
  h = await startPlatform();
});
afterEach(async () => {
  await h.close();
});

function authUrl(params: Record<string, string>): string {
  const q = new URLSearchParams({
    redirect_uri: REDIRECT!,
    response_type: 'code',
    client_id: SEED_APP.clientId,
    scope: 'openid Todo.PersonalTodo.Write',
    state: 'st-123',
    prompt: 'consent',
    ...params,
  });
  return `/oauth2/auth?${q}`;
}

const nonceOf = (html: string): string => {
  const m = /name="nonce" value="([0-9a-f]{32})"/.exec(html);
  if (!m) throw new Error('no nonce in page');
  return m[1]!;
};

const decide = (form: Record<string, string>) =>
  h.call('/oauth2/auth/decide', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

describe('GET /oauth2/auth', () => {
  test('renders the consent page: app name, permissions with labels, users, Approve/Deny', async () => {
    const page = await h.call(authUrl({}));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text).toContain('授权登录');
    expect(page.text).toContain('Authorize');
    expect(page.text).toContain(SEED_APP.name);
    expect(page.text).toContain('读取个人信息');
    expect(page.text).toContain('创建个人待办');
    expect(page.text).toContain('Create to-dos for you');
    expect(page.text).toContain('value="zhangsan"');
    expect(page.text).toContain('value="lisi"');
    expect(page.text).toContain('value="approve"');
    expect(page.text).toContain('value="deny"');
    expect(page.text).not.toMatch(/(src|href)="https?:/); // no external assets
  });

  test('x_scopes adds scopes; login_hint preselects the user', async () => {
    const page = await h.call(
      authUrl({ scope: 'openid', x_scopes: 'Calendar.Event.Read,Todo.Todo.Read', login_hint: 'lisi' }),
    );
    expect(page.text).toContain('Calendar.Event.Read');
    expect(page.text).toContain('查看你的待办');
    expect(page.text).toMatch(/value="lisi" checked/);
  });

  test('an unknown client_id is a 400 error page and no redirect', async () => {
    const res = await h.call(authUrl({ client_id: 'nosuchapp' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.text).toContain('Unknown app');
  });

  test('a redirect_uri not registered for the app is refused with a 400 page, never redirected to', async () => {
    const res = await h.call(authUrl({ redirect_uri: 'https://evil.example/steal' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.text).toContain('Redirect URI not registered');
    const missing = await h.call(
      `/oauth2/auth?client_id=${SEED_APP.clientId}&response_type=code&scope=openid`,
    );
    expect(missing.status).toBe(400);
  });

  test('a redirect URI registered through the control API is accepted', async () => {
    const uri = 'http://127.0.0.1:9999/callback';
    expect((await h.call(authUrl({ redirect_uri: uri }))).status).toBe(400);
    const reg = await h.call(`/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, {
      method: 'POST',
      json: { uri },
    });
    expect(reg.body.redirectUris).toContain(uri);
    expect((await h.call(authUrl({ redirect_uri: uri }))).status).toBe(200);
  });

  test('a wrong response_type or an empty scope redirects back with an error and the state', async () => {
    const rt = await h.call(authUrl({ response_type: 'token' }));
    expect(rt.status).toBe(302);
    const loc = new URL(rt.headers.get('location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect(loc.searchParams.get('error')).toBe('unsupported_response_type');
    expect(loc.searchParams.get('state')).toBe('st-123');
    const sc = await h.call(authUrl({ scope: '' }));
    expect(new URL(sc.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('POST /oauth2/auth/decide', () => {
  test('Approve records the grant and redirects with code, authCode and state; the code exchanges once', async () => {
    const page = await h.call(authUrl({}));
    const res = await decide({ nonce: nonceOf(page.text), userId: 'lisi', decision: 'approve' });
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    const code = loc.searchParams.get('code');
    expect(code).toMatch(/^[0-9a-f]{32}$/);
    expect(loc.searchParams.get('authCode')).toBe(code);
    expect(loc.searchParams.get('state')).toBe('st-123');

    const grants = await h.call('/sandbox/grants?userId=lisi');
    expect(grants.body.grants[0]).toMatchObject({ clientId: SEED_APP.clientId, revokedAt: null });
    expect(grants.body.grants[0].scopes).toEqual(['openid', 'Todo.PersonalTodo.Write', 'Contact.User.Read']);

    const ex = await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: {
        clientId: SEED_APP.clientId,
        clientSecret: SEED_APP.clientSecret,
        code,
        grantType: 'authorization_code',
      },
    });
    expect(ex.status).toBe(200);
    const me = await h.call('/v1.0/contact/users/me', { token: ex.body.accessToken });
    expect(me.body.nick).toBe('李四');
  });

  test('Deny redirects with error=access_denied and the state, and grants nothing', async () => {
    const page = await h.call(authUrl({}));
    const res = await decide({ nonce: nonceOf(page.text), userId: 'zhangsan', decision: 'deny' });
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.searchParams.get('error')).toBe('access_denied');
    expect(loc.searchParams.get('state')).toBe('st-123');
    expect(loc.searchParams.has('code')).toBe(false);
    expect((await h.call('/sandbox/grants?userId=zhangsan')).body.grants).toEqual([]);
  });

  test('without a state none is echoed', async () => {
    const q = new URLSearchParams({
      redirect_uri: REDIRECT!,
      response_type: 'code',
      client_id: SEED_APP.clientId,
      scope: 'openid',
    });
    const page = await h.call(`/oauth2/auth?${q}`);
    expect(page.status).toBe(200);
    const res = await decide({ nonce: nonceOf(page.text), userId: 'zhangsan', decision: 'approve' });
    const loc = new URL(res.headers.get('location')!);
    expect(loc.searchParams.has('code')).toBe(true);
    expect(loc.searchParams.has('state')).toBe(false);
  });

  test('a nonce answers once; an unknown nonce, user or decision is a 400 page', async () => {
    const page = await h.call(authUrl({}));
    const nonce = nonceOf(page.text);
    expect((await decide({ nonce, userId: 'zhangsan', decision: 'approve' })).status).toBe(302);
    const again = await decide({ nonce, userId: 'zhangsan', decision: 'approve' });
    expect(again.status).toBe(400);
    expect(again.headers.get('location')).toBeNull();
    expect(again.text).toContain('Request expired');
    expect((await decide({ nonce: 'f'.repeat(32), decision: 'approve', userId: 'zhangsan' })).status).toBe(
      400,
    );
    const p2 = await h.call(authUrl({}));
    const noUser = await decide({ nonce: nonceOf(p2.text), userId: 'nobody', decision: 'approve' });
    expect(noUser.status).toBe(400);
    expect(noUser.text).toContain('unknown user nobody');
    const p3 = await h.call(authUrl({}));
    expect((await decide({ nonce: nonceOf(p3.text), userId: 'zhangsan', decision: 'maybe' })).status).toBe(
      400,
    );
  });

  test('a consent page left open longer than 10 minutes expires', async () => {
    const page = await h.call(authUrl({}));
    await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 10 * 60_000 + 1 } });
    const res = await decide({ nonce: nonceOf(page.text), userId: 'zhangsan', decision: 'approve' });
    expect(res.status).toBe(400);
  });
});

describe('POST /sandbox/oauth/authorize (headless consent)', () => {
  test('returns the code and the redirect the page would have made', async () => {
    const res = await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: { userId: 'zhangsan', clientId: SEED_APP.clientId, scopes: 'openid Todo.Todo.Read', state: 's1' },
    });
    expect(res.status).toBe(200);
    const loc = new URL(res.body.redirect);
    expect(loc.searchParams.get('code')).toBe(res.body.code);
    expect(loc.searchParams.get('authCode')).toBe(res.body.code);
    expect(loc.searchParams.get('state')).toBe('s1');
    expect(res.body.grant.scopes).toEqual(['openid', 'Todo.Todo.Read', 'Contact.User.Read']);
  });

  test('refuses unknown users/apps (404) and unregistered redirect URIs (400), naming the field', async () => {
    const user = await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: { userId: 'nobody', clientId: SEED_APP.clientId, scopes: ['openid'] },
    });
    expect(user.status).toBe(404);
    expect(user.body.field).toBe('userId');
    const uri = await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: {
        userId: 'zhangsan',
        clientId: SEED_APP.clientId,
        scopes: ['openid'],
        redirectUri: 'https://evil.example/',
      },
    });
    expect(uri.status).toBe(400);
    expect(uri.body.field).toBe('redirectUri');
    const noScopes = await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: { userId: 'zhangsan', clientId: SEED_APP.clientId },
    });
    expect(noScopes.status).toBe(400);
    expect(noScopes.body.field).toBe('scopes');
  });
});
