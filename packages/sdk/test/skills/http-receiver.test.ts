import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppApi, defineSkill, SkillsApp, silentLogger, type UserApi } from '../../src/internal.js';

type FakeUserApi = { token(): Promise<string> };

const greet = defineSkill({
  operationId: 'greet',
  summary: 'Greet',
  description: 'Greets.',
  method: 'GET',
  path: '/v1/actions/greet',
  input: z.object({ name: z.string(), times: z.number().int().default(1) }),
  handler: (input, ctx) => ({
    text: `你好 ${input.name}`.repeat(input.times),
    user: ctx.user.userId ?? null,
  }),
});
const create = defineSkill({
  operationId: 'create',
  summary: 'Create',
  description: 'Creates.',
  path: '/v1/actions/create',
  input: z.object({ subject: z.string() }),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (input, ctx) => ({
    subject: input.subject,
    token: await (ctx.userApi as unknown as FakeUserApi).token(),
  }),
});

let server: Server;
let base: string;

beforeAll(async () => {
  const app = new SkillsApp({
    skills: [greet, create],
    logger: silentLogger(),
    credentials: {
      resolve: async (i) => (i.accessToken ? { getToken: async () => i.accessToken! } : undefined),
    },
    userApiFor: (s) => ({ token: () => s.getToken() }) as unknown as UserApi,
    appApi: {} as AppApi,
    http: { sharedSecret: 's3cret-value-0123456789', maxBodyBytes: 1024 },
  });
  const listening = await app.listenHttp();
  server = listening.server;
  base = listening.url;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const auth = { 'x-dingtalk-skills-secret': 's3cret-value-0123456789' };

describe('HTTP receiver', () => {
  it('serves a skill on its method + path with real HTTP', async () => {
    const res = await fetch(`${base}/v1/actions/greet?name=%E5%BC%A0%E4%B8%89&times=2&userId=zhangsan`, {
      headers: auth,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ text: '你好 张三你好 张三', user: 'zhangsan' });
  });

  it('rejects a missing or wrong shared secret with 401', async () => {
    const none = await fetch(`${base}/v1/actions/greet?name=a`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ success: false, code: 'Unauthorized' });
    const wrong = await fetch(`${base}/v1/actions/greet?name=a`, {
      headers: { 'x-dingtalk-skills-secret': 'nope' },
    });
    expect(wrong.status).toBe(401);
  });

  it('answers the authorization-card structure with status 400 when the user token is missing', async () => {
    const res = await fetch(`${base}/v1/actions/create`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-request-id': 'rq-1' },
      body: JSON.stringify({ subject: 'x' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ success: false, code: 'InvalidAuthentication', requestId: 'rq-1' });
    const ok = await fetch(`${base}/v1/actions/create`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'x', accessToken: 'tok' }),
    });
    expect(await ok.json()).toEqual({ subject: 'x', token: 'tok' });
  });

  it('answers 400 for a body that is not JSON, 413 for an oversized body, 404 for an unknown path, 405 for other methods', async () => {
    const notJson = await fetch(`${base}/v1/actions/create`, {
      method: 'POST',
      headers: auth,
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { fields: { field: string }[] }).fields[0]!.field).toBe('body');
    const big = await fetch(`${base}/v1/actions/create`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ subject: 'x'.repeat(2000) }),
    });
    expect(big.status).toBe(413);
    const missing = await fetch(`${base}/v1/actions/missing`, { headers: auth });
    expect(missing.status).toBe(404);
    const options = await fetch(`${base}/v1/actions/greet`, { method: 'OPTIONS', headers: auth });
    expect(options.status).toBe(405);
  });
});
