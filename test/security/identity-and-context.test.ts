/**
 * One user must never act as another (issue 11 #2), over the wire against the sandbox:
 * - context parameters (userId, unionId, corpId, oauthAuthCode, jobNum) come only from the query the
 *   platform fills from `x-dingtalk-context`, never from the model-controlled body;
 * - a token exchanged from a code is filed only under the user DingTalk says it belongs to;
 * - the legacy plugin's identity comes from the token the platform passes, not from `data` fields.
 */
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import { defineApp, defineSkill, Metrics, type RunningApp, startApp } from '@dingtalk-skills/sdk';
import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CaptureLogger } from '../../packages/sdk/test/support/capture-logger.js';

const CLIENT_ID = 'dingsandboxapp001';
const CLIENT_SECRET = 'sandbox-secret';
const GRAPH = '/v1.0/graph/api/invoke';
const PLUGIN = '/v1.0/agi/plugins/callback';

const whoami = defineSkill({
  operationId: 'whoami',
  summary: 'Who am I',
  description: 'Reads the profile as the user.',
  method: 'GET',
  path: '/v1/actions/crm/me',
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
  path: '/v1/actions/crm/todos',
  input: z.object({ subject: z.string().min(1) }),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (input, ctx) => ({
    taskId: (await ctx.userApi.todo.create({ subject: input.subject })).taskId,
  }),
});

/** Tells who the framework says the user is, without acting as them. */
const context = defineSkill({
  operationId: 'context',
  summary: 'Context',
  description: 'Echoes the invocation context.',
  path: '/v1/actions/crm/context',
  input: z.object({ note: z.string().optional() }),
  context: ['userId', 'unionId', 'corpId', 'jobNum'],
  handler: async (_input, ctx) => ({
    userId: ctx.user.userId ?? null,
    unionId: ctx.user.unionId ?? null,
    jobNum: ctx.user.jobNum ?? null,
    corpId: ctx.corpId ?? null,
  }),
});

/** An idempotent skill whose user comes from a handed-over token: its remembered answer is per user. */
const whoamiOnce = defineSkill({
  operationId: 'whoamiOnce',
  summary: 'Who am I (idempotent)',
  description: 'Reads the profile as the user; a redelivery gets the remembered answer.',
  method: 'POST',
  path: '/v1/actions/crm/me-once',
  input: z.object({ note: z.string().optional() }),
  scopes: ['Contact.User.Read'],
  idempotent: true,
  handler: async (_input, ctx) => {
    const me = await ctx.userApi.contact.me();
    return { name: me.nick, unionId: me.unionId };
  },
});

let sandbox: Sandbox;
let running: RunningApp;
const logs = new CaptureLogger({ level: 'debug', secrets: [CLIENT_SECRET] });
const metrics = new Metrics();

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function graph(method: string, uri: string, body?: unknown): Promise<Answer> {
  const result = await sandbox.gateway.invokeCallback({
    topic: GRAPH,
    data: {
      requestLine: { method, uri },
      headers: { 'content-type': 'application/json' },
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
    data: { abilityKey, data, pluginId: 'AI-test', pluginVersion: '1.0.0', requestId: 'rq-plugin' },
    timeoutMs: 5_000,
  });
  if (result.status !== 'answered') throw new Error(`callback not answered: ${JSON.stringify(result)}`);
  return result.response;
}

/** The user consents on the consent page (`openid` as every consent carries) and a fresh code is issued. */
const consent = (userId: string, scopes: string[]) =>
  sandbox.platform.authorize({ userId, clientId: CLIENT_ID, scopes: ['openid', ...scopes] }).code;

const zhangsanQuery = 'userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp';

async function mismatchCount(via: string): Promise<number> {
  const line = (await metrics.render())
    .split('\n')
    .find((l) => l.startsWith('dingtalk_security_identity_mismatches_total{') && l.includes(`via="${via}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  sandbox = await createSandbox({
    ephemeral: true,
    logger: logs.logger.child({ part: 'sandbox' }),
    pingIntervalMs: 0,
  });
  running = await startApp(
    defineApp({ name: 'identity', skills: [whoami, createTodo, context, whoamiOnce] }),
    {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiBase: sandbox.url,
      logger: logs.logger.child({ part: 'app' }),
      now: () => sandbox.context.clock.now(),
      rateLimiter: new WindowRateLimiter({ qps: 1_000 }),
      metrics,
    },
  );
});

afterAll(async () => {
  await running.stop();
  await sandbox.close();
});

describe('context parameters come only from the query the platform fills', () => {
  it("zhangsan's call whose body carries lisi's code and unionId: the body is ignored, nothing is filed, whoami stays 张三's", async () => {
    const lisiCode = consent('lisi', ['Contact.User.Read', 'Todo.PersonalTodo.Write']);
    const attack = await graph('POST', `/v1/actions/crm/todos?${zhangsanQuery}`, {
      subject: 'planted',
      oauthAuthCode: lisiCode,
      unionId: 'union-lisi',
      userId: 'lisi',
    });
    // zhangsan never authorized: the card, not a to-do in lisi's account.
    expect(attack).toMatchObject({ status: 400, body: { code: 'InvalidAuthentication' } });
    const later = await graph('GET', `/v1/actions/crm/me?${zhangsanQuery}`);
    expect(later).toMatchObject({ status: 400, body: { code: 'InvalidAuthentication' } });
    expect(await running.tokens.resolve({ unionId: 'union-zhangsan' })).toBeUndefined();
    // The code was never spent by the app: lisi can still use it herself.
    const lisi = await graph(
      'GET',
      `/v1/actions/crm/me?userId=lisi&unionId=union-lisi&oauthAuthCode=${lisiCode}`,
    );
    expect(lisi).toEqual({ status: 200, body: { name: '李四', unionId: 'union-lisi' } });
  });

  it('a body-supplied unionId, userId, corpId or jobNum never becomes ctx.user', async () => {
    const spoof = { unionId: 'union-lisi', userId: 'lisi', corpId: 'evilcorp', jobNum: '007' };
    expect(await graph('POST', `/v1/actions/crm/context?${zhangsanQuery}`, spoof)).toEqual({
      status: 200,
      body: { userId: 'zhangsan', unionId: 'union-zhangsan', jobNum: null, corpId: 'dingsandboxcorp' },
    });
    expect(await graph('POST', '/v1/actions/crm/context', spoof)).toEqual({
      status: 200,
      body: { userId: null, unionId: null, jobNum: null, corpId: null },
    });
  });
});

describe('a token is filed only under the user it belongs to', () => {
  it("lisi's code in zhangsan's query (a substituted code): refused, not filed, logged as a security event and counted", async () => {
    const before = await mismatchCount('authCode');
    const mark = logs.entries.length;
    const lisiCode = consent('lisi', ['Contact.User.Read']);
    const res = await graph('GET', `/v1/actions/crm/me?${zhangsanQuery}&oauthAuthCode=${lisiCode}`);
    expect(res).toMatchObject({ status: 400, body: { code: 'InvalidAuthentication' } });
    // zhangsan's later call: still no token (lisi's was not filed under him).
    expect((await graph('GET', `/v1/actions/crm/me?${zhangsanQuery}`)).status).toBe(400);
    const event = logs.entries.slice(mark).find((e) => e.event === 'security.identity_mismatch');
    expect(event).toMatchObject({
      level: 40,
      via: 'authCode',
      asserted: 'union-zhangsan',
      owner: 'union-lisi',
    });
    expect(JSON.stringify(logs.entries.slice(mark))).not.toContain(lisiCode);
    expect(await mismatchCount('authCode')).toBe(before + 1);
    // zhangsan's own consent then works and files his token under him.
    const own = consent('zhangsan', ['Contact.User.Read']);
    expect(await graph('GET', `/v1/actions/crm/me?${zhangsanQuery}&oauthAuthCode=${own}`)).toEqual({
      status: 200,
      body: { name: '张三', unionId: 'union-zhangsan' },
    });
    expect((await graph('GET', `/v1/actions/crm/me?${zhangsanQuery}`)).body).toMatchObject({ name: '张三' });
  });

  it("a handed-over token of lisi named as zhangsan's (Graph body accessToken): refused and counted", async () => {
    consent('lisi', ['Contact.User.Read']);
    const { accessToken } = sandbox.platform.issueUserTokens('lisi', CLIENT_ID);
    const before = await mismatchCount('accessToken');
    const res = await graph('POST', `/v1/actions/crm/context?${zhangsanQuery}`, { accessToken });
    expect(res).toMatchObject({ status: 400, body: { code: 'InvalidAuthentication' } });
    expect(await mismatchCount('accessToken')).toBe(before + 1);
  });
});

describe('legacy plugin: identity from the token the platform passes', () => {
  it("data fields naming lisi are ignored: ctx.user is the token's owner", async () => {
    consent('zhangsan', ['Contact.User.Read']);
    const { accessToken } = sandbox.platform.issueUserTokens('zhangsan', CLIENT_ID);
    const answer = await plugin('context', { accessToken, unionId: 'union-lisi', userId: 'lisi' });
    expect(answer).toEqual({
      requestId: 'rq-plugin',
      result: { userId: null, unionId: 'union-zhangsan', jobNum: null, corpId: null },
    });
    expect(await plugin('whoami', { accessToken, unionId: 'union-lisi' })).toMatchObject({
      result: { name: '张三', unionId: 'union-zhangsan' },
    });
  });

  it('no token: no identity at all, whatever data says', async () => {
    expect(await plugin('context', { unionId: 'union-lisi', userId: 'lisi' })).toEqual({
      requestId: 'rq-plugin',
      result: { userId: null, unionId: null, jobNum: null, corpId: null },
    });
  });
});

describe('idempotent skills remember answers per user', () => {
  it("two users' identical calls that differ only in their handed-over token never share a remembered answer", async () => {
    consent('zhangsan', ['Contact.User.Read']);
    consent('lisi', ['Contact.User.Read']);
    const zhangsan = sandbox.platform.issueUserTokens('zhangsan', CLIENT_ID).accessToken;
    const lisi = sandbox.platform.issueUserTokens('lisi', CLIENT_ID).accessToken;
    const first = await graph('POST', '/v1/actions/crm/me-once', { note: 'same', accessToken: zhangsan });
    expect(first).toMatchObject({ status: 200, body: { unionId: 'union-zhangsan' } });
    const other = await graph('POST', '/v1/actions/crm/me-once', { note: 'same', accessToken: lisi });
    expect(other).toMatchObject({ status: 200, body: { unionId: 'union-lisi', name: '李四' } });
    // The same token again (what a redelivery carries) still gets the remembered answer.
    const again = await graph('POST', '/v1/actions/crm/me-once', { note: 'same', accessToken: zhangsan });
    expect(again).toMatchObject({ status: 200, body: { unionId: 'union-zhangsan' } });
  });

  it('the legacy plugin: two users reusing one requestId get their own answers', async () => {
    const zhangsan = sandbox.platform.issueUserTokens('zhangsan', CLIENT_ID).accessToken;
    const lisi = sandbox.platform.issueUserTokens('lisi', CLIENT_ID).accessToken;
    expect(await plugin('whoamiOnce', { accessToken: zhangsan, note: 'x' })).toMatchObject({
      result: { unionId: 'union-zhangsan' },
    });
    expect(await plugin('whoamiOnce', { accessToken: lisi, note: 'x' })).toMatchObject({
      result: { unionId: 'union-lisi' },
    });
  });
});
