import { SEED_APP } from '@dingtalk-skills/sandbox';
import { generateSpecYaml, type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crm from '../../../../examples/crm/app.js';
import type { InvokeOutcome, TranscriptStep } from '../../src/assistant/index.js';
import { type Harness, http, startHarness } from './harness.js';

/**
 * The whole loop with the real framework on the other side: the example CRM app (SkillsApp over the
 * project's StreamClient, its credential manager exchanging the assistant's oauthAuthCode at the
 * sandbox's /v1.0/oauth2/userAccessToken, then calling the emulated OpenAPI as the user).
 */

const CLIENT = SEED_APP.clientId;
let h: Harness;
let app: RunningApp;

function steps(t: TranscriptStep[]): string[] {
  return t.map((s) => (s.step === 'invoke' ? `invoke#${s.attempt}` : s.step));
}

async function invoke(body: Record<string, unknown>): Promise<InvokeOutcome> {
  const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', body);
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  h = await startHarness({ callbackTimeoutMs: 8_000 });
  app = await startApp(crm, {
    clientId: CLIENT,
    clientSecret: SEED_APP.clientSecret,
    apiBase: h.url,
    logger: silentLogger(),
    now: () => h.clock.now(),
  });
  const yaml = generateSpecYaml(crm.skills, { title: crm.name, protocol: 'stream' });
  const res = await http(h.url, 'POST', '/sandbox/skills', yaml, { 'content-type': 'application/yaml' });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await app?.stop();
  await h?.close();
});

describe('the example CRM app through the assistant', () => {
  it('first use: card, consent, one re-run that exchanges the code and creates the to-do as the user', async () => {
    const out = await invoke({
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '给客户回电话' },
      autoConsent: true,
    });
    expect(steps(out.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    const result = out.transcript[4] as Extract<TranscriptStep, { step: 'result' }>;
    expect(result.body).toMatchObject({ subject: '给客户回电话', taskId: expect.any(String) });
    const todos = h.platform.repos.todos.listFor('union-zhangsan', { offset: 0, limit: 100 }).items;
    expect(todos.map((t) => t.subject)).toContain('给客户回电话');
  });

  it('later uses run directly on the stored token: no card, no code', async () => {
    const out = await invoke({
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '第二条' },
    });
    expect(steps(out.transcript)).toEqual(['invoke#1', 'result']);
    // openid in the consent also granted Contact.User.Read: whoami works at once.
    const me = await invoke({ operationId: 'whoami', userId: 'zhangsan' });
    expect(steps(me.transcript)).toEqual(['invoke#1', 'result']);
    expect(me.transcript[1]).toMatchObject({ body: { name: '张三', unionId: 'union-zhangsan' } });
  });

  it('skill-triggered: the platform has a grant but the app holds no token for the user', async () => {
    h.platform.authorize({ userId: 'lisi', clientId: CLIENT, scopes: ['openid', 'Todo.PersonalTodo.Write'] });
    const out = await invoke({
      operationId: 'createTodo',
      userId: 'lisi',
      params: { subject: '李四的待办' },
      autoConsent: true,
    });
    expect(steps(out.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    expect(out.transcript[1]).toMatchObject({ trigger: 'skill', code: 'InvalidAuthentication', status: 400 });
  });

  it('after the grant is revoked (control API), the platform shows the card again; consenting restores it', async () => {
    const revoked = await http(h.url, 'POST', '/sandbox/users/zhangsan/revoke', { clientId: CLIENT });
    expect(revoked.status).toBe(200);
    const out = await invoke({
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '撤销之后' },
    });
    expect(out.status).toBe('awaiting_consent');
    expect(out.transcript[1]).toMatchObject({ trigger: 'platform', code: 'InvalidAuthentication' });
    const again = await invoke({
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '撤销之后' },
      autoConsent: true,
    });
    expect(steps(again.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
  });

  it('after a scope is removed, the card asks for exactly that scope', async () => {
    const removed = await http(h.url, 'POST', '/sandbox/users/zhangsan/remove-scope', {
      clientId: CLIENT,
      scope: 'Todo.PersonalTodo.Write',
    });
    expect(removed.status).toBe(200);
    const out = await invoke({
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '缺权限' },
      autoConsent: true,
    });
    expect(out.transcript[1]).toMatchObject({
      trigger: 'platform',
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestedScopes: ['openid', 'Todo.PersonalTodo.Write'],
    });
    expect(out.transcript.at(-1)).toMatchObject({ step: 'result' });
  });

  it('an expired access token is refreshed by the app: the user sees only the result', async () => {
    const expired = await http<{ expired: number }>(h.url, 'POST', '/sandbox/users/zhangsan/expire-token', {
      clientId: CLIENT,
    });
    expect(expired.status).toBe(200);
    expect(expired.body.expired).toBeGreaterThan(0);
    const out = await invoke({ operationId: 'whoami', userId: 'zhangsan' });
    expect(steps(out.transcript)).toEqual(['invoke#1', 'result']);
  });
});
