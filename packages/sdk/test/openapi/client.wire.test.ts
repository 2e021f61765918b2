import { SEED_APP } from '@dingtalk-skills/sandbox';
import { OpenApiError, silentLogger } from '@dingtalk-skills/sdk';
import { toAuthorizationRequired } from '@dingtalk-skills/sdk/internal';
import {
  createOpenApiClient,
  type OpenApiClient,
  type OpenApiClientConfig,
} from '@dingtalk-skills/sdk/openapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caught } from '../support/caught.js';
import { captureLogs, type LogCapture } from './support/log-capture.js';
import { ALL_SCOPES, type SandboxPlatformHarness, startSandboxPlatform } from './support/sandbox-platform.js';

let sandbox: SandboxPlatformHarness;
let logs: LogCapture;
const clients: OpenApiClient[] = [];
/** Every token and code the tests saw: none may appear in a log line. */
const secretsSeen = new Set<string>([SEED_APP.clientSecret]);

function client(overrides: Partial<OpenApiClientConfig> = {}): OpenApiClient {
  const c = createOpenApiClient({
    apiBase: sandbox.url,
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    logger: logs.logger,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, qpsLimitDelayMs: 1000 },
    ...overrides,
  });
  clients.push(c);
  return c;
}

async function userToken(c: OpenApiClient, userId = 'zhangsan', scopes = ALL_SCOPES) {
  const code = await sandbox.authorize(userId, scopes);
  secretsSeen.add(code);
  const grant = await c.oauth.exchangeCode(code);
  secretsSeen.add(grant.accessToken);
  if (grant.refreshToken) secretsSeen.add(grant.refreshToken);
  return grant;
}

beforeAll(async () => {
  sandbox = await startSandboxPlatform();
  logs = captureLogs('trace');
});

afterEach(async () => {
  await sandbox.control('POST', '/sandbox/faults/openapi', { mode: 'none' });
  await sandbox.control('POST', '/sandbox/limits/openapi', { qpsLimit: 0 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sandbox.close();
});

describe('app token', () => {
  it('is fetched once for many concurrent callers and then served from the cache', async () => {
    const c = client();
    sandbox.resetCounts();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => c.app.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^[0-9a-f]{32}$/);
    secretsSeen.add(tokens[0] as string);
    expect(sandbox.requests('POST /v1.0/oauth2/accessToken')).toBe(1);
    expect(await c.app.getAccessToken()).toBe(tokens[0]);
    expect(sandbox.requests('POST /v1.0/oauth2/accessToken')).toBe(1);
    c.app.invalidate();
    const next = await c.app.getAccessToken();
    secretsSeen.add(next);
    expect(next).not.toBe(tokens[0]);
    expect(sandbox.requests('POST /v1.0/oauth2/accessToken')).toBe(2);
  });

  it('on InvalidAuthentication drops the cached token and retries once, then lets the error through', async () => {
    const c = client();
    sandbox.resetCounts();
    // A user API answers an app token with 400 InvalidAuthentication.
    const err = await caught(c.request({ method: 'GET', path: '/v1.0/contact/users/me' }, 'app'));
    expect(err).toBeInstanceOf(OpenApiError);
    expect(err).toMatchObject({ status: 400, apiCode: 'InvalidAuthentication', kind: 'auth' });
    expect(sandbox.requests('GET /v1.0/contact/users/me')).toBe(2);
    expect(sandbox.requests('POST /v1.0/oauth2/accessToken')).toBe(2);
  });

  it('bad client credentials: invalidClientIdOrSecret, classified auth, not retried', async () => {
    const c = client({ clientSecret: 'wrong-secret' });
    sandbox.resetCounts();
    const err = await caught(c.app.getAccessToken());
    expect(err).toMatchObject({ code: 'ERR_OPENAPI', apiCode: 'invalidClientIdOrSecret', kind: 'auth' });
    expect(sandbox.requests('POST /v1.0/oauth2/accessToken')).toBe(1);
  });
});

describe('user token endpoints', () => {
  it('exchanges a code once; the code is single use and a reuse is not retried', async () => {
    const c = client();
    const code = await sandbox.authorize('lisi', ALL_SCOPES);
    secretsSeen.add(code);
    const before = Date.now();
    const grant = await c.oauth.exchangeCode(code);
    secretsSeen.add(grant.accessToken);
    secretsSeen.add(grant.refreshToken as string);
    expect(grant.accessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(grant.refreshToken).toMatch(/^[0-9a-f]{32}$/);
    expect(grant.corpId).toBe('dingsandboxcorp');
    expect(grant.expiresAt).toBeGreaterThanOrEqual(before + 7_200_000);
    expect(grant.expiresAt).toBeLessThanOrEqual(Date.now() + 7_200_000);

    sandbox.resetCounts();
    const err = await caught(c.oauth.exchangeCode(code));
    expect(err).toMatchObject({ status: 400, apiCode: 'invalidParameter.authCode.notFound', kind: 'client' });
    expect(sandbox.requests('POST /v1.0/oauth2/userAccessToken')).toBe(1);
  });

  it('refresh rotates the refresh token (the access token, still valid, comes back renewed); the spent refresh token is refused', async () => {
    const c = client();
    const first = await userToken(c);
    const second = await c.oauth.refresh(first.refreshToken as string);
    secretsSeen.add(second.accessToken);
    secretsSeen.add(second.refreshToken as string);
    // DingTalk: a repeated fetch within the access token's validity returns the same token, renewed.
    expect(second.accessToken).toBe(first.accessToken);
    expect(second.expiresAt).toBeGreaterThanOrEqual(first.expiresAt);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const err = await caught(c.oauth.refresh(first.refreshToken as string));
    expect(err).toMatchObject({ apiCode: 'invalidParameter.refreshToken.notFound' });
  });

  it('refuses an empty code or refresh token before sending', async () => {
    const c = client();
    await expect(c.oauth.exchangeCode('')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(c.oauth.refresh('')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});

describe('me APIs as the user', () => {
  it('reads the profile, creates and lists to-dos, creates and lists events, sets a status, reads scopes', async () => {
    const c = client();
    const grant = await userToken(c);
    const me = c.asUser(grant.accessToken);
    const profile = await me.contact.me();
    expect(profile).toMatchObject({ unionId: 'union-zhangsan', nick: '张三' });

    const asZhang = c.asUser({ getToken: async () => grant.accessToken, unionId: profile.unionId });
    const todo = await asZhang.todo.create({ subject: '回访杭州钉钉', dueTime: Date.now() + 86_400_000 });
    expect(todo.taskId).toEqual(expect.any(String));
    const list = await asZhang.todo.list('me', { isDone: false });
    expect(list.todoCards.map((t) => t.taskId)).toContain(todo.taskId);
    expect(list.todoCards.find((t) => t.taskId === todo.taskId)?.subject).toBe('回访杭州钉钉');

    const event = await asZhang.calendar.createEvent('me', {
      summary: '客户拜访',
      start: { dateTime: '2030-01-02T10:00:00+08:00', timeZone: 'Asia/Shanghai' },
      end: { dateTime: '2030-01-02T11:00:00+08:00', timeZone: 'Asia/Shanghai' },
    });
    expect(event.id).toEqual(expect.any(String));
    const events = await asZhang.calendar.listEvents('union-zhangsan', {
      timeMin: new Date('2030-01-01T00:00:00+08:00'),
      timeMax: '2030-01-03T00:00:00+08:00',
      maxResults: 10,
    });
    expect(events.events.map((e) => e.id)).toContain(event.id);

    const status = await asZhang.status.set('zhangsan', {
      ownenssType: 1,
      startTime: Date.now(),
      endTime: Date.now() + 3_600_000,
    });
    // DingTalk's published type is a string (the status record's id), never a boolean.
    expect(status.result).toEqual(expect.any(String));
    expect(status.result).not.toBe('');

    const rules = await asZhang.oauth.authRules();
    expect(rules.result[0]?.authItems).toEqual(expect.arrayContaining(['Todo.PersonalTodo.Write']));
  });

  it('a missing scope: 403 PermissionDenied with requiredScopes, mapped to the authorization card', async () => {
    const c = client();
    const grant = await userToken(c, 'lisi', ALL_SCOPES);
    // The user (or an admin) takes one permission back.
    await sandbox.control('POST', '/sandbox/users/lisi/remove-scope', {
      clientId: SEED_APP.clientId,
      scope: 'Calendar.Event.Write',
    });
    sandbox.resetCounts();
    const err = await caught(
      c.asUser(grant.accessToken).calendar.createEvent('me', { summary: 'x', start: { date: '2030-01-01' } }),
    );
    expect(err).toBeInstanceOf(OpenApiError);
    expect(err).toMatchObject({
      status: 403,
      apiCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      kind: 'permission',
      isAuthFailure: true,
      requiredScopes: ['Calendar.Event.Write'],
    });
    expect((err as OpenApiError).requestId).not.toBe('');
    expect(sandbox.requests('POST /v1.0/calendar/users/me/calendars/primary/events')).toBe(1);
    const card = toAuthorizationRequired(err);
    expect(card).toMatchObject({
      code: 'ERR_AUTHORIZATION_REQUIRED',
      authCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requiredScopes: ['Calendar.Event.Write'],
    });
    expect(card?.toAuthFailure('rid-1')).toEqual({
      success: false,
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestId: 'rid-1',
    });
  });

  it('bad input to a path parameter is refused before sending', async () => {
    const c = client();
    await expect(c.asUser('t').todo.list('')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});

describe('retries', () => {
  it('a QPS-limit 403 is backed off and retried (even for a POST); the client limiter avoids it altogether', async () => {
    const grant = await userToken(client());
    await sandbox.control('POST', '/sandbox/limits/openapi', { qpsLimit: 3 });

    const eager = client({ rateLimit: false, retry: { maxAttempts: 4, qpsLimitDelayMs: 1000 } });
    const user = eager.asUser({ getToken: async () => grant.accessToken, unionId: 'union-zhangsan' });
    sandbox.resetCounts();
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => user.todo.create({ subject: `q${i}` })),
    );
    expect(new Set(created.map((t) => t.taskId)).size).toBe(6);
    // 6 calls, 3 refused with the QPS 403 and retried after ~1 s.
    expect(sandbox.requests('POST /v1.0/todo/users/me/personalTasks')).toBe(9);
    const retries = logs.lines().filter((l) => l.msg === 'OpenAPI call failed, retrying' && l.apiCode);
    expect(retries.some((l) => l.apiCode === 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi')).toBe(true);

    // With the client's own limit at the platform's, no call is refused. The window has 300 ms of
    // margin: both sides measure on arrival, so network jitter could otherwise squeeze a 4th call in.
    await new Promise((r) => setTimeout(r, 1000)); // let the platform's window empty
    const polite = client({ rateLimit: { qps: 3, windowMs: 1300 } });
    const user2 = polite.asUser({ getToken: async () => grant.accessToken, unionId: 'union-zhangsan' });
    sandbox.resetCounts();
    await Promise.all(Array.from({ length: 7 }, (_, i) => user2.todo.create({ subject: `p${i}` })));
    expect(sandbox.requests('POST /v1.0/todo/users/me/personalTasks')).toBe(7);
  });

  it('5xx is retried for an idempotent call only', async () => {
    const c = client();
    const grant = await userToken(c);
    const user = c.asUser(grant.accessToken);
    const listApi = 'GET /v1.0/calendar/users/me/calendars/primary/events';
    const createApi = 'POST /v1.0/calendar/users/me/calendars/primary/events';

    await sandbox.control('POST', '/sandbox/faults/openapi', {
      path: '/v1.0/calendar',
      mode: 'status',
      status: 503,
      times: 2,
    });
    sandbox.resetCounts();
    const listed = await user.calendar.listEvents('me');
    expect(listed.events).toEqual(expect.any(Array));
    expect(sandbox.requests(listApi)).toBe(3);

    await sandbox.control('POST', '/sandbox/faults/openapi', {
      path: '/v1.0/calendar',
      mode: 'status',
      status: 500,
      times: 5,
    });
    sandbox.resetCounts();
    const err = await caught(
      user.calendar.createEvent('me', { summary: 'once', start: { date: '2030-02-01' } }),
    );
    expect(err).toMatchObject({ status: 500, apiCode: 'SystemError', kind: 'server', isRetryable: false });
    expect(sandbox.requests(createApi)).toBe(1);

    // Bounded: an idempotent call gives up after maxAttempts.
    sandbox.resetCounts();
    const err2 = await caught(user.calendar.listEvents('me'));
    expect(err2).toMatchObject({ status: 500, isRetryable: true });
    expect(sandbox.requests(listApi)).toBe(3);
  });

  it('a 400 or 403 auth failure is never retried', async () => {
    const c = client();
    sandbox.resetCounts();
    const err = await caught(c.asUser('0'.repeat(32)).contact.me());
    expect(err).toMatchObject({ status: 400, apiCode: 'InvalidAuthentication' });
    expect(sandbox.requests('GET /v1.0/contact/users/me')).toBe(1);
  });

  it('a slow answer times out; a read is retried up to maxAttempts, a write is not', async () => {
    const c = client({ timeoutMs: 100 });
    const grant = await userToken(c);
    const user = c.asUser({ getToken: async () => grant.accessToken, unionId: 'union-zhangsan' });
    await sandbox.control('POST', '/sandbox/faults/openapi', {
      path: '/v1.0/todo',
      mode: 'delay',
      delayMs: 400,
    });
    sandbox.resetCounts();
    const err = await caught(user.todo.list('me'));
    expect(err).toMatchObject({ status: 0, apiCode: 'Timeout', kind: 'transient' });
    expect(sandbox.requests('POST /v1.0/todo/users/union-zhangsan/tasks/list')).toBe(3);
    sandbox.resetCounts();
    const err2 = await caught(user.todo.create({ subject: 'slow' }));
    expect(err2).toMatchObject({ apiCode: 'Timeout', isRetryable: false });
    expect(sandbox.requests('POST /v1.0/todo/users/me/personalTasks')).toBe(1);
  });

  it('an unreachable server is a NetworkError (status 0, transient)', async () => {
    const c = createOpenApiClient({
      apiBase: 'http://127.0.0.1:9',
      clientId: 'x',
      clientSecret: 'y',
      logger: silentLogger(),
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    clients.push(c);
    const err = await caught(c.app.getAccessToken());
    expect(err).toMatchObject({ status: 0, apiCode: 'NetworkError', kind: 'transient' });
  });
});

describe('connection pool', () => {
  it('1,000 calls, sequential and concurrent, use at most maxConnections keep-alive connections', async () => {
    const grant = await userToken(client());
    const pooled = client({ maxConnections: 4, rateLimit: false });
    const user2 = pooled.asUser(grant.accessToken);
    const before = sandbox.counts.clientConnections;
    sandbox.resetCounts();
    for (let i = 0; i < 300; i++) await user2.oauth.authRules();
    // One after another, the calls ride kept-alive connections: undici may open a second one when the
    // next request is dispatched before the first socket is marked free, but never one per call.
    const sequential = sandbox.counts.clientConnections - before;
    expect(sequential).toBeLessThanOrEqual(2);
    for (let batch = 0; batch < 7; batch++)
      await Promise.all(Array.from({ length: 100 }, () => user2.oauth.authRules()));
    expect(sandbox.requests('GET /v1.0/oauth2/authRules/user')).toBe(1000);
    const used = sandbox.counts.clientConnections - before;
    expect(used).toBeGreaterThanOrEqual(1);
    expect(used).toBeLessThanOrEqual(4);
  });
});

describe('logging', () => {
  it('never writes a token, code or the client secret', () => {
    const text = logs.text();
    expect(text.length).toBeGreaterThan(1000);
    for (const s of secretsSeen) expect(text.includes(s)).toBe(false);
  });
});
