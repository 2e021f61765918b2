/**
 * Skills acting as the user, end to end over the wire: the sandbox's gateway sends Graph API and legacy
 * plugin CALLBACKs over a real Stream connection to an app started with `startApp`, the skills call the
 * sandbox's OpenAPI with the user's delegated token, and the answers come back as acks. HTTP too.
 */
import type { Server } from 'node:http';
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import { defineApp, defineSkill, type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const CLIENT_ID = 'dingsandboxapp001';
const CLIENT_SECRET = 'sandbox-secret';
const GRAPH = '/v1.0/graph/api/invoke';
const PLUGIN = '/v1.0/agi/plugins/callback';
const HTTP_SECRET = 'wire-test-shared-secret';

const whoami = defineSkill({
  operationId: 'whoami',
  summary: 'Who am I',
  description: 'Reads the profile as the user.',
  method: 'GET',
  path: '/v1/actions/me',
  input: z.object({}),
  scopes: ['Contact.User.Read'],
  handler: async (_input, ctx) => {
    const me = await ctx.userApi.contact.me();
    return { name: me.nick, unionId: me.unionId };
  },
});

const createTodo = defineSkill({
  operationId: 'createTodo',
  summary: 'Create a to-do',
  description: 'Creates a personal to-do as the user.',
  path: '/v1/actions/todos',
  input: z.object({
    subject: z.string().min(1).max(50),
    priority: z.number().int().min(0).max(40).optional(),
  }),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (input, ctx) => {
    const todo = await ctx.userApi.todo.create({ subject: input.subject });
    return { taskId: todo.taskId, subject: input.subject };
  },
});

const misbehave = defineSkill({
  operationId: 'misbehave',
  summary: 'Misbehave',
  description: 'Throws or hangs on request.',
  path: '/v1/actions/misbehave',
  input: z.object({ how: z.enum(['throw', 'hang']) }),
  timeoutMs: 300,
  handler: async (input) => {
    if (input.how === 'throw') throw new Error('database password is hunter2');
    return new Promise<never>(() => undefined);
  },
});

const app = defineApp({ name: 'wire test', skills: [whoami, createTodo, misbehave] });

let sandbox: Sandbox;
let running: RunningApp;
let http: { server: Server; url: string };

interface GraphAnswer {
  status: number;
  body: Record<string, unknown>;
}

async function graph(
  method: string,
  uri: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<GraphAnswer> {
  const result = await sandbox.gateway.invokeCallback({
    topic: GRAPH,
    data: {
      requestLine: { method, uri },
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? '' : JSON.stringify(body),
    },
    timeoutMs: 5_000,
  });
  if (result.status !== 'answered') throw new Error(`callback not answered: ${JSON.stringify(result)}`);
  const response = result.response as { statusLine: { code: number }; body: string };
  return { status: response.statusLine.code, body: JSON.parse(response.body) };
}

async function plugin(abilityKey: string, data: Record<string, unknown>): Promise<unknown> {
  const result = await sandbox.gateway.invokeCallback({
    topic: PLUGIN,
    data: { abilityKey, data, pluginId: 'AI-test', pluginVersion: '1.0.0', requestId: 'req-plugin-1' },
    timeoutMs: 5_000,
  });
  if (result.status !== 'answered') throw new Error(`callback not answered: ${JSON.stringify(result)}`);
  return result.response;
}

async function control(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The user consents to `scopes` (as on the consent page) and the assistant gets a fresh code. */
function consent(userId: string, scopes: string[]): string {
  return sandbox.platform.authorize({ userId, clientId: CLIENT_ID, scopes }).code;
}

async function refreshCount(userId: string): Promise<number> {
  const stats = (await control(`/sandbox/stats/tokens?clientId=${CLIENT_ID}`)) as {
    byAppUser: { userId: string; refreshToken: number }[];
  };
  return stats.byAppUser.filter((r) => r.userId === userId).reduce((n, r) => n + r.refreshToken, 0);
}

const ctxQuery = (user: 'zhangsan' | 'lisi', code?: string) =>
  `userId=${user}&unionId=union-${user}&corpId=dingsandboxcorp${code ? `&oauthAuthCode=${encodeURIComponent(code)}` : ''}`;

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  running = await startApp(app, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
    skillTimeoutMs: 5_000,
    stream: { maxInFlight: 128 },
    // DingTalk's 20 QPS per API would spread 100 calls over 5 s; these tests are about tokens, not pacing.
    rateLimiter: new WindowRateLimiter({ qps: 1_000 }),
    http: { sharedSecret: HTTP_SECRET },
  });
  http = await running.skills.listenHttp();
});

afterAll(async () => {
  await new Promise<void>((r) => http.server.close(() => r()));
  await running.stop();
  await sandbox.close();
});

beforeEach(async () => {
  await control('/sandbox/faults/openapi', { mode: 'none' });
  await control('/sandbox/limits/openapi', { qpsLimit: 0 });
});

describe('Graph API topic', () => {
  it('no token: answers 400 with the authorization-card structure before the handler runs', async () => {
    const res = await graph('GET', `/v1/actions/me?${ctxQuery('lisi')}`, undefined, {
      'x-request-id': 'rq-1',
    });
    expect(res).toEqual({
      status: 400,
      body: { success: false, code: 'InvalidAuthentication', requestId: 'rq-1' },
    });
  });

  it('valid token (oauthAuthCode exchanged by the skill): result; later calls use the stored token', async () => {
    const code = consent('zhangsan', ['Contact.User.Read']);
    const first = await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan', code)}`);
    expect(first).toEqual({ status: 200, body: { name: '张三', unionId: 'union-zhangsan' } });
    const second = await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan')}`);
    expect(second.body).toEqual({ name: '张三', unionId: 'union-zhangsan' });
  });

  it('missing scope: answers 403 Forbidden.AccessDenied.AccessTokenPermissionDenied', async () => {
    const code = consent('zhangsan', ['Contact.User.Read']);
    const res = await graph('POST', `/v1/actions/todos?${ctxQuery('zhangsan', code)}`, { subject: 'x' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      success: false,
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
    });
  });

  it('expired token with a refresh token: refresh and retry once, then the result', async () => {
    consent('zhangsan', ['Contact.User.Read']);
    await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan', consent('zhangsan', ['Contact.User.Read']))}`);
    await control('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID });
    const before = await refreshCount('zhangsan');
    const res = await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan')}`);
    expect(res.status).toBe(200);
    expect(await refreshCount('zhangsan')).toBe(before + 1);
  });

  it('100 concurrent invocations for one user with an expired access token: exactly one refresh', async () => {
    await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan', consent('zhangsan', ['Contact.User.Read']))}`);
    await control('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID });
    const before = await refreshCount('zhangsan');
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => graph('GET', `/v1/actions/me?${ctxQuery('zhangsan')}`)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(100);
    expect(await refreshCount('zhangsan')).toBe(before + 1);
  });

  it('revoked consent: the refresh fails and the answer is the InvalidAuthentication card', async () => {
    await graph('GET', `/v1/actions/me?${ctxQuery('lisi', consent('lisi', ['Contact.User.Read']))}`);
    await control('/sandbox/users/lisi/revoke', { clientId: CLIENT_ID });
    await control('/sandbox/users/lisi/expire-token', { clientId: CLIENT_ID });
    const res = await graph('GET', `/v1/actions/me?${ctxQuery('lisi')}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: 'InvalidAuthentication' });
  });

  it('input failing the schema: 400 naming the fields; unknown path: 404', async () => {
    const code = consent('zhangsan', ['Todo.PersonalTodo.Write']);
    const bad = await graph('POST', `/v1/actions/todos?${ctxQuery('zhangsan', code)}`, {
      subject: '',
      priority: 99,
    });
    expect(bad.status).toBe(400);
    expect((bad.body.fields as { field: string }[]).map((f) => f.field).sort()).toEqual([
      'priority',
      'subject',
    ]);
    const missing = await graph('GET', '/v1/actions/nothing-here');
    expect(missing.status).toBe(404);
  });

  it('a handler throw is 500 with a safe message; a handler past its deadline is 504 before the platform gives up', async () => {
    const thrown = await graph('POST', '/v1/actions/misbehave', { how: 'throw' });
    expect(thrown.status).toBe(500);
    expect(JSON.stringify(thrown.body)).not.toContain('hunter2');
    const started = Date.now();
    const hung = await graph('POST', '/v1/actions/misbehave', { how: 'hang' });
    expect(hung.status).toBe(504);
    expect(hung.body.code).toBe('HandlerTimeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('QPS-limit errors from the OpenAPI: bounded backoff and retry, every call succeeds', async () => {
    const code = consent('lisi', ['Contact.User.Read']);
    await graph('GET', `/v1/actions/me?${ctxQuery('lisi', code)}`);
    await control('/sandbox/limits/openapi', { qpsLimit: 2 });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => graph('GET', `/v1/actions/me?${ctxQuery('lisi')}`)),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('5xx: retried for an idempotent GET, not for a POST', async () => {
    const code = consent('zhangsan', ['Contact.User.Read', 'Todo.PersonalTodo.Write']);
    await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan', code)}`);
    await control('/sandbox/faults/openapi', {
      path: '/v1.0/contact/users/me',
      mode: 'status',
      status: 503,
      times: 2,
    });
    expect((await graph('GET', `/v1/actions/me?${ctxQuery('zhangsan')}`)).status).toBe(200);
    await control('/sandbox/faults/openapi', { path: '/v1.0/todo/', mode: 'status', status: 500, times: 1 });
    const post = await graph('POST', `/v1/actions/todos?${ctxQuery('zhangsan')}`, { subject: 'not retried' });
    expect(post.status).toBe(500);
    const after = await graph('POST', `/v1/actions/todos?${ctxQuery('zhangsan')}`, {
      subject: 'now it works',
    });
    expect(after.status).toBe(200);
  });
});

describe('legacy AI plugin topic', () => {
  it('valid accessToken in data: {requestId, result}', async () => {
    consent('zhangsan', ['Contact.User.Read', 'Todo.PersonalTodo.Write']);
    const { accessToken } = sandbox.platform.issueUserTokens('zhangsan', CLIENT_ID);
    const answer = (await plugin('createTodo', { subject: '跟进客户', accessToken })) as {
      requestId: string;
      result: { taskId: string; subject: string };
    };
    expect(answer.requestId).toBe('req-plugin-1');
    expect(answer.result.subject).toBe('跟进客户');
    expect(answer.result.taskId).toEqual(expect.any(String));
  });

  it('no token, expired token, revoked consent, missing scope: the failure structure with the right code', async () => {
    expect(await plugin('createTodo', { subject: 'x' })).toEqual({
      success: false,
      code: 'InvalidAuthentication',
      requestId: 'req-plugin-1',
    });
    consent('lisi', ['Contact.User.Read']);
    const { accessToken } = sandbox.platform.issueUserTokens('lisi', CLIENT_ID);
    expect(await plugin('createTodo', { subject: 'x', accessToken })).toEqual({
      success: false,
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestId: 'req-plugin-1',
      // DingTalk's 403 named the scope; the answer passes it on so the card can ask for it.
      requiredScopes: ['Todo.PersonalTodo.Write'],
    });
    await control('/sandbox/users/lisi/expire-token', { clientId: CLIENT_ID });
    expect(await plugin('whoami', { accessToken })).toMatchObject({ code: 'InvalidAuthentication' });
    consent('lisi', ['Contact.User.Read']);
    const fresh = sandbox.platform.issueUserTokens('lisi', CLIENT_ID).accessToken;
    await control('/sandbox/users/lisi/revoke', { clientId: CLIENT_ID });
    expect(await plugin('whoami', { accessToken: fresh })).toMatchObject({
      success: false,
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
    });
  });

  it('unknown ability: NotFound', async () => {
    expect(await plugin('nope', {})).toMatchObject({
      success: false,
      code: 'NotFound',
      requestId: 'req-plugin-1',
    });
  });
});

describe('HTTP receiver', () => {
  it('valid token -> result; no token -> 400 card; missing scope -> 403 card', async () => {
    consent('zhangsan', ['Contact.User.Read']);
    const { accessToken } = sandbox.platform.issueUserTokens('zhangsan', CLIENT_ID);
    const ok = await fetch(`${http.url}/v1/actions/me?${ctxQuery('zhangsan')}`, {
      method: 'GET',
      headers: { 'x-request-id': 'h-1', 'x-dingtalk-skills-secret': HTTP_SECRET },
    });
    // GET carries no body: the stored token from the Graph tests answers.
    expect(ok.status).toBe(200);
    const none = await fetch(`${http.url}/v1/actions/todos?userId=nobody`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'h-2',
        'x-dingtalk-skills-secret': HTTP_SECRET,
      },
      body: JSON.stringify({ subject: 'x' }),
    });
    expect(none.status).toBe(400);
    expect(await none.json()).toEqual({ success: false, code: 'InvalidAuthentication', requestId: 'h-2' });
    await control('/sandbox/users/zhangsan/remove-scope', {
      clientId: CLIENT_ID,
      scope: 'Todo.PersonalTodo.Write',
    });
    const denied = await fetch(`${http.url}/v1/actions/todos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dingtalk-skills-secret': HTTP_SECRET },
      body: JSON.stringify({ subject: 'x', accessToken }),
    });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' });
  });
});

describe('acting as the user outside an invocation (running.asUser)', () => {
  it('uses the stored token, refreshes it when expired, and rejects catchably when there is none or the grant is gone', async () => {
    // The user authorized once (as through a skill's card): the token is stored under the unionId.
    const code = consent('zhangsan', ['Contact.User.Read']);
    await running.tokens.resolve({ authCode: code, unionId: 'union-zhangsan' });

    const me = await (await running.asUser('union-zhangsan')).contact.me();
    expect(me).toMatchObject({ nick: '张三', unionId: 'union-zhangsan' });

    // A scheduled job hours later: the access token expired; the stored refresh token renews it.
    const refreshesBefore = await refreshCount('zhangsan');
    await control('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID });
    const again = await (await running.asUser('union-zhangsan')).contact.me();
    expect(again.unionId).toBe('union-zhangsan');
    expect(await refreshCount('zhangsan')).toBe(refreshesBefore + 1);

    // Nobody stored: a catchable AuthorizationRequiredError, not undefined or a crash.
    const none = await running.asUser('union-nobody').catch((e: unknown) => e);
    expect(none).toMatchObject({ code: 'ERR_AUTHORIZATION_REQUIRED', authCode: 'InvalidAuthentication' });

    // The user revoked the app and both tokens lapsed: the call rejects the same way.
    await control('/sandbox/users/zhangsan/revoke', { clientId: CLIENT_ID });
    await control('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID, includeRefresh: true });
    const api = await running.asUser('union-zhangsan');
    const revoked = await api.contact.me().catch((e: unknown) => e);
    expect(revoked).toMatchObject({ code: 'ERR_AUTHORIZATION_REQUIRED', authCode: 'InvalidAuthentication' });
  });
});
