import { SEED_APP } from '@dingtalk-skills/sandbox';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Conversation, InvokeOutcome, TranscriptStep } from '../../src/assistant/index.js';
import { type Harness, http, ScriptedSkill, startHarness, TEST_SPEC_YAML } from './harness.js';

const CLIENT = SEED_APP.clientId;
const SCOPE = 'Todo.PersonalTodo.Write';
const AUTH_400 = (requestId = 'req-1') => ({
  status: 400,
  body: { success: false, code: 'InvalidAuthentication', requestId },
});
const AUTH_403 = (extra: Record<string, unknown> = {}) => ({
  status: 403,
  body: {
    success: false,
    code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
    requestId: 'req-403',
    ...extra,
  },
});
const OK = { status: 200, body: { taskId: 'task-1', subject: '买牛奶' } };

function steps(t: TranscriptStep[]): string[] {
  return t.map((s) => (s.step === 'invoke' ? `invoke#${s.attempt}` : s.step));
}

async function invoke(h: Harness, body: Record<string, unknown>): Promise<InvokeOutcome> {
  const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', body);
  if (res.status !== 200) throw new Error(`invoke answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Goes through the platform's real consent page: GET the card's URL, post the decision, follow to the callback. */
async function decideOnConsentPage(
  h: Harness,
  consentUrl: string,
  decision: 'approve' | 'deny',
  userId = 'zhangsan',
) {
  const page = await fetch(consentUrl);
  const html = await page.text();
  expect(page.status).toBe(200);
  const nonce = /name="nonce" value="([^"]+)"/.exec(html)?.[1];
  expect(nonce).toBeDefined();
  const decided = await fetch(`${h.url}/oauth2/auth/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ nonce: nonce!, decision, userId }).toString(),
    redirect: 'manual',
  });
  expect(decided.status).toBe(302);
  const callback = decided.headers.get('location')!;
  expect(callback.startsWith(`${h.url}/sandbox/assistant/oauth2?`)).toBe(true);
  const back = await fetch(callback, { redirect: 'manual' });
  return { callback, status: back.status, location: back.headers.get('location') };
}

async function conversation(h: Harness, id: string): Promise<Conversation> {
  return (await http<Conversation>(h.url, 'GET', `/sandbox/assistant/conversations/${id}`)).body;
}

/** Exchanges a code the way a skill does; proves the code the assistant handed over is real and fresh. */
async function exchange(h: Harness, code: string): Promise<number> {
  const res = await fetch(`${h.url}/v1.0/oauth2/userAccessToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: CLIENT,
      clientSecret: SEED_APP.clientSecret,
      code,
      grantType: 'authorization_code',
    }),
  });
  return res.status;
}

let h: Harness;
let skill: ScriptedSkill;

beforeAll(async () => {
  h = await startHarness({ callbackTimeoutMs: 1_500 });
  h.assistant.registerSkillsYaml(CLIENT, TEST_SPEC_YAML);
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  h.platform.reset();
  skill = await ScriptedSkill.connect(h.url, () => OK);
});
afterEach(async () => {
  await skill.close();
});

describe('platform-triggered authorization card', () => {
  it('shows the card before calling the skill, then after consent on the page runs the skill exactly once', async () => {
    const out = await invoke(h, {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '买牛奶' },
    });
    expect(out.status).toBe('awaiting_consent');
    expect(steps(out.transcript)).toEqual(['invoke#1', 'auth_card']);
    expect(skill.calls).toHaveLength(0);
    const card = out.transcript[1]!;
    expect(card).toMatchObject({
      step: 'auth_card',
      trigger: 'platform',
      code: 'InvalidAuthentication',
      clientId: CLIENT,
      appName: SEED_APP.name,
      userId: 'zhangsan',
      missingScopes: [{ code: SCOPE, zh: '创建个人待办', en: 'Create to-dos for you' }],
      requestedScopes: ['openid', SCOPE],
    });
    const url = new URL(out.consentUrl!);
    expect(url.origin + url.pathname).toBe(`${h.url}/oauth2/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: CLIENT,
      redirect_uri: `${h.url}/sandbox/assistant/oauth2`,
      response_type: 'code',
      scope: `openid ${SCOPE}`,
      login_hint: 'zhangsan',
      prompt: 'consent',
    });
    // The callback is registered as a login redirect URI of the app, like baymax's.
    expect(h.platform.repos.apps.get(CLIENT)!.redirectUris).toContain(`${h.url}/sandbox/assistant/oauth2`);

    const back = await decideOnConsentPage(h, out.consentUrl!, 'approve');
    expect(back.status).toBe(302);
    expect(back.location).toBe(`/?conversation=${out.conversationId}`);

    expect(skill.calls).toHaveLength(1);
    const call = skill.calls[0]!;
    expect(call.request.requestLine.method).toBe('POST');
    expect(call.path).toBe('/v1/actions/test/todos');
    expect(call.body).toEqual({ subject: '买牛奶' });
    expect(call.query).toMatchObject({
      userId: 'zhangsan',
      unionId: 'union-zhangsan',
      corpId: 'dingsandboxcorp',
    });
    expect(call.request.headers).toMatchObject({
      'content-type': 'application/json',
      'x-ability-key': 'createTodo',
    });
    expect(call.request.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const code = call.query.oauthAuthCode as string;
    expect(code).toMatch(/^[0-9a-f]{32}$/);
    expect(await exchange(h, code)).toBe(200);
    expect(await exchange(h, code)).toBe(400); // single use

    const conv = await conversation(h, out.conversationId);
    expect(conv.status).toBe('done');
    const mine = conv.transcript.filter((s) => s.invocationId === out.invocationId);
    expect(steps(mine)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    expect(mine[2]).toMatchObject({ step: 'consent', decision: 'approve', via: 'page' });
    expect((mine[2] as { scopes: string[] }).scopes).toContain(SCOPE);
    expect(mine[3]).toMatchObject({ step: 'invoke', attempt: 2, withAuthCode: true });
    expect(mine[4]).toMatchObject({ step: 'result', status: 200, body: OK.body });
    expect(conv.invocations).toEqual([
      expect.objectContaining({ id: out.invocationId, status: 'done', skillCalls: 1 }),
    ]);
  });

  it('asks only for the missing scope when the grant lacks one, and runs directly when nothing is missing', async () => {
    h.platform.authorize({ userId: 'zhangsan', clientId: CLIENT, scopes: ['openid'] });
    const out = await invoke(h, { operationId: 'createTodo', userId: 'zhangsan', params: { subject: 'x' } });
    expect(out.transcript[1]).toMatchObject({
      trigger: 'platform',
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestedScopes: ['openid', SCOPE],
    });
    expect(skill.calls).toHaveLength(0);

    h.platform.authorize({ userId: 'zhangsan', clientId: CLIENT, scopes: [SCOPE] });
    const direct = await invoke(h, {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: 'y' },
    });
    expect(steps(direct.transcript)).toEqual(['invoke#1', 'result']);
    expect(skill.calls).toHaveLength(1);
    expect(skill.calls[0]!.query.oauthAuthCode).toBeUndefined(); // a code only right after consent
  });

  it('a denied consent records the refusal and an error, and never calls the skill', async () => {
    const out = await invoke(h, { operationId: 'createTodo', userId: 'lisi', params: { subject: 'x' } });
    const back = await decideOnConsentPage(h, out.consentUrl!, 'deny', 'lisi');
    expect(back.callback).toContain('error=access_denied');
    expect(back.location).toBe(`/?conversation=${out.conversationId}`);
    const conv = await conversation(h, out.conversationId);
    expect(steps(conv.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'error']);
    expect(conv.transcript[2]).toMatchObject({
      decision: 'deny',
      error: 'access_denied',
      scopes: ['openid', SCOPE],
    });
    expect(conv.transcript[3]).toMatchObject({ code: 'consentDenied' });
    expect(conv.status).toBe('done');
    expect(skill.calls).toHaveLength(0);
    expect(h.platform.repos.grants.get('lisi', CLIENT)).toBeUndefined();
  });

  it('consent given on another account ends with an error naming both, and never runs the skill as either', async () => {
    skill.answer = () => OK;
    const out = await invoke(h, { operationId: 'createTodo', userId: 'zhangsan', params: { subject: 'x' } });
    expect(out.status).toBe('awaiting_consent');
    const back = await decideOnConsentPage(h, out.consentUrl!, 'approve', 'lisi');
    expect(back.location).toBe(`/?conversation=${out.conversationId}`);
    const conv = await conversation(h, out.conversationId);
    expect(steps(conv.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'error']);
    expect(conv.transcript[2]).toMatchObject({ decision: 'approve', userId: 'lisi' });
    expect(conv.transcript[3]).toMatchObject({ code: 'consentWrongUser' });
    const message = (conv.transcript[3] as { message: string }).message;
    expect(message).toContain('lisi');
    expect(message).toContain('zhangsan');
    expect(conv.status).toBe('done');
    expect(skill.calls).toHaveLength(0);
    // lisi did consent (that grant stands); zhangsan, who asked, still has none.
    expect(h.platform.repos.grants.get('lisi', CLIENT)?.scopes).toContain(SCOPE);
    expect(h.platform.repos.grants.get('zhangsan', CLIENT)).toBeUndefined();
  });

  it('autoConsent consents headlessly and runs the skill once with a fresh code', async () => {
    const out = await invoke(h, {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: '买牛奶', priority: '2', urgent: 'true' },
      autoConsent: true,
    });
    expect(out.status).toBe('done');
    expect(steps(out.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);
    expect(out.transcript[2]).toMatchObject({ decision: 'approve', via: 'headless' });
    expect(out.consentUrl).toBeUndefined();
    expect(skill.calls).toHaveLength(1);
    // Form strings became the declared types.
    expect(skill.calls[0]!.body).toEqual({ subject: '买牛奶', priority: 2, urgent: true });
    expect(await exchange(h, skill.calls[0]!.query.oauthAuthCode as string)).toBe(200);
    expect(h.platform.repos.grants.get('zhangsan', CLIENT)?.scopes).toContain(SCOPE);
  });
});

describe('skill-triggered authorization card', () => {
  beforeEach(() => {
    h.platform.authorize({ userId: 'zhangsan', clientId: CLIENT, scopes: ['openid', SCOPE] });
  });

  it('InvalidAuthentication from the skill shows the card; consent via the callback re-runs exactly once', async () => {
    skill.answer = (_call, n) => (n === 1 ? AUTH_400('req-abc') : OK);
    const out = await invoke(h, { operationId: 'createTodo', userId: 'zhangsan', params: { subject: 'x' } });
    expect(out.status).toBe('awaiting_consent');
    expect(steps(out.transcript)).toEqual(['invoke#1', 'auth_card']);
    expect(out.transcript[1]).toMatchObject({
      trigger: 'skill',
      code: 'InvalidAuthentication',
      status: 400,
      requestId: 'req-abc',
      missingScopes: [],
      requestedScopes: ['openid', SCOPE],
    });
    expect(skill.calls).toHaveLength(1);
    expect(skill.calls[0]!.query.oauthAuthCode).toBeUndefined();

    const state = new URL(out.consentUrl!).searchParams.get('state')!;
    const { code } = h.platform.authorize({
      userId: 'zhangsan',
      clientId: CLIENT,
      scopes: ['openid', SCOPE],
      redirectUri: `${h.url}/sandbox/assistant/oauth2`,
      state,
    });
    const back = await http(
      h.url,
      'GET',
      `/sandbox/assistant/oauth2?code=${code}&authCode=${code}&state=${state}`,
    );
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe(`/?conversation=${out.conversationId}`);
    expect(skill.calls).toHaveLength(2);
    expect(skill.calls[1]!.query.oauthAuthCode).toBe(code);

    const conv = await conversation(h, out.conversationId);
    expect(steps(conv.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'result']);

    // The state was good once.
    const again = await http<string>(h.url, 'GET', `/sandbox/assistant/oauth2?code=${code}&state=${state}`);
    expect(again.status).toBe(400);
    expect(again.body).toContain('data-testid="callback-error"');
    expect(skill.calls).toHaveLength(2);
  });

  it('the 403 permission code asks for the declared scopes plus what the skill names', async () => {
    skill.answer = (_call, n) => (n === 1 ? AUTH_403({ requiredScopes: ['Contact.User.Read'] }) : OK);
    const out = await invoke(h, {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: 'x' },
      autoConsent: true,
    });
    expect(out.transcript[1]).toMatchObject({
      trigger: 'skill',
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      status: 403,
      requestedScopes: ['openid', SCOPE, 'Contact.User.Read'],
      undeclaredScopes: ['Contact.User.Read'],
    });
    expect((out.transcript[1] as { warning?: string }).warning).toContain(
      'skill "createTodo" needs Contact.User.Read but does not declare it: declare it in `scopes`',
    );
    expect(out.status).toBe('done');
    expect(h.platform.repos.grants.get('zhangsan', CLIENT)?.scopes).toContain('Contact.User.Read');
  });

  it('a second authorization failure right after consent ends with an error, not another card', async () => {
    skill.answer = () => AUTH_403();
    const out = await invoke(h, {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { subject: 'x' },
      autoConsent: true,
    });
    expect(out.status).toBe('done');
    expect(steps(out.transcript)).toEqual(['invoke#1', 'auth_card', 'consent', 'invoke#2', 'error']);
    expect(out.transcript[4]).toMatchObject({ step: 'error', code: 'authorizationFailedAgain', status: 403 });
    expect((out.transcript[4] as { message: string }).message).toContain('does not ask twice in a row');
    expect(skill.calls).toHaveLength(2);
  });

  it('a card nobody answers expires with the sandbox clock', async () => {
    skill.answer = () => AUTH_400();
    const out = await invoke(h, { operationId: 'createTodo', userId: 'zhangsan', params: { subject: 'x' } });
    const state = new URL(out.consentUrl!).searchParams.get('state')!;
    h.clock.advance(11 * 60 * 1000);
    const conv = await conversation(h, out.conversationId);
    expect(conv.transcript.at(-1)).toMatchObject({ step: 'error', code: 'consentExpired' });
    expect(conv.status).toBe('done');
    const late = await http(h.url, 'GET', `/sandbox/assistant/oauth2?code=whatever&state=${state}`);
    expect(late.status).toBe(400);
    expect(skill.calls).toHaveLength(1);
  });
});

describe('results, errors and transcripts', () => {
  it('an action without scopes runs at once; every step has at and invocationId', async () => {
    skill.answer = (call) => ({ status: 200, body: { echo: call.query.word, who: call.query.userId } });
    const out = await invoke(h, { operationId: 'echo', userId: 'lisi', params: { word: '你好 world' } });
    expect(out.status).toBe('done');
    expect(steps(out.transcript)).toEqual(['invoke#1', 'result']);
    expect(out.transcript[1]).toMatchObject({ body: { echo: '你好 world', who: 'lisi' } });
    expect(skill.calls[0]!.request.requestLine.uri).toBe(
      '/v1/actions/test/echo?word=%E4%BD%A0%E5%A5%BD%20world&userId=lisi',
    );
    expect(skill.calls[0]!.request.requestLine.method).toBe('GET');
    for (const s of out.transcript) {
      expect(typeof s.at).toBe('number');
      expect(s.invocationId).toBe(out.invocationId);
    }
    expect(out.transcript[0]).toMatchObject({
      step: 'invoke',
      attempt: 1,
      operationId: 'echo',
      userId: 'lisi',
      params: { word: '你好 world' },
      withAuthCode: false,
    });
  });

  it('refuses bad input before calling: missing required, wrong type, unknown name', async () => {
    const out = await invoke(h, {
      operationId: 'createTodo',
      userId: 'zhangsan',
      params: { priority: 'high', colour: 'red' },
    });
    expect(steps(out.transcript)).toEqual(['invoke#1', 'error']);
    expect(out.transcript[1]).toMatchObject({ code: 'invalidParams' });
    const message = (out.transcript[1] as { message: string }).message;
    expect(message).toContain('unknown parameter "colour"');
    expect(message).toContain('missing required parameter "subject" (待办标题 Subject)');
    expect(message).toContain('parameter "priority": expected a number, got "high"');
    expect(skill.calls).toHaveLength(0);
  });

  it('a skill error answer becomes an error step with its status and body', async () => {
    skill.answer = () => ({
      status: 500,
      body: { success: false, code: 'InternalError', message: 'internal error' },
    });
    const out = await invoke(h, { operationId: 'echo', userId: 'zhangsan', params: { word: 'x' } });
    expect(out.transcript[1]).toMatchObject({
      step: 'error',
      code: 'skillError',
      status: 500,
      message: 'the skill answered with an error (InternalError: internal error)',
    });
  });

  it('no connection, no answer, a malformed answer: each a defined error step', async () => {
    skill.answer = () => ({ rawResponse: { nope: true } });
    const bad = await invoke(h, { operationId: 'echo', userId: 'zhangsan', params: { word: 'x' } });
    expect(bad.transcript[1]).toMatchObject({ code: 'badResponse' });

    skill.ws.removeAllListeners('message'); // the skill stops answering
    const late = await invoke(h, { operationId: 'echo', userId: 'zhangsan', params: { word: 'x' } });
    expect(late.transcript[1]).toMatchObject({ code: 'skillTimeout' });

    await skill.close();
    const none = await invoke(h, { operationId: 'echo', userId: 'zhangsan', params: { word: 'x' } });
    expect(none.transcript[1]).toMatchObject({ code: 'skillUnavailable' });
    expect((none.transcript[1] as { message: string }).message).toContain('has no live Stream connection');
  });

  it('answers 404 for an unknown user or skill, 400 for a malformed request', async () => {
    const user = await http<{ code: string }>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'echo',
      userId: 'wangwu',
    });
    expect(user.status).toBe(404);
    expect(user.body.code).toBe('unknownUser');
    const op = await http<{ code: string; message: string }>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'nope',
      userId: 'zhangsan',
    });
    expect(op.status).toBe(404);
    expect(op.body.code).toBe('unknownSkill');
    expect(op.body.message).toContain('createTodo, echo');
    const bad = await http<{ code: string; field: string }>(h.url, 'POST', '/sandbox/assistant/invoke', {
      userId: 'zhangsan',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalidParameter', field: 'operationId' });
  });

  it('keeps conversations per user; continuing one appends; another user cannot continue it', async () => {
    const first = await invoke(h, { operationId: 'echo', userId: 'zhangsan', params: { word: 'a' } });
    const second = await invoke(h, {
      operationId: 'echo',
      userId: 'zhangsan',
      params: { word: 'b' },
      conversationId: first.conversationId,
    });
    expect(second.conversationId).toBe(first.conversationId);
    const conv = await conversation(h, first.conversationId);
    expect(conv.invocations.map((i) => i.id)).toEqual([first.invocationId, second.invocationId]);
    expect(steps(conv.transcript)).toEqual(['invoke#1', 'result', 'invoke#1', 'result']);
    const listed = await http<{ conversations: Conversation[] }>(
      h.url,
      'GET',
      '/sandbox/assistant/conversations?userId=zhangsan',
    );
    expect(listed.body.conversations.map((c) => c.id)).toContain(first.conversationId);
    const other = await http<{ conversations: Conversation[] }>(
      h.url,
      'GET',
      '/sandbox/assistant/conversations?userId=lisi',
    );
    expect(other.body.conversations.map((c) => c.id)).not.toContain(first.conversationId);
    const wrong = await http<{ code: string }>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'echo',
      userId: 'lisi',
      params: { word: 'c' },
      conversationId: first.conversationId,
    });
    expect(wrong.status).toBe(400);
    const missing = await http<{ code: string }>(h.url, 'GET', '/sandbox/assistant/conversations/conv-nope');
    expect(missing.status).toBe(404);
  });
});

describe('plain-text commands (POST /sandbox/assistant/say)', () => {
  it('picks the skill by operationId or by summary words, with name=value parameters', async () => {
    skill.answer = (call) => ({ status: 200, body: { got: call.body, word: call.query.word ?? null } });
    const byId = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/say', {
      userId: 'zhangsan',
      text: 'createTodo subject="买 牛奶" priority=3',
      autoConsent: true,
    });
    expect(byId.body.status).toBe('done');
    expect(byId.body.transcript[0]).toMatchObject({
      operationId: 'createTodo',
      text: 'createTodo subject="买 牛奶" priority=3',
    });
    expect(byId.body.transcript.at(-1)).toMatchObject({
      step: 'result',
      body: { got: { subject: '买 牛奶', priority: 3 } },
    });

    const bySummary = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/say', {
      userId: 'zhangsan',
      text: '回声 word=hi',
    });
    expect(bySummary.body.transcript[0]).toMatchObject({ operationId: 'echo' });
    expect(bySummary.body.transcript.at(-1)).toMatchObject({ step: 'result', body: { word: 'hi' } });

    const json = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/say', {
      userId: 'zhangsan',
      text: 'echo {"word": "json"}',
    });
    expect(json.body.transcript.at(-1)).toMatchObject({ body: { word: 'json' } });
  });

  it('says so when nothing matches', async () => {
    const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/say', {
      userId: 'zhangsan',
      text: '订机票',
    });
    expect(res.status).toBe(200);
    expect(res.body.transcript).toEqual([
      expect.objectContaining({ step: 'error', code: 'noMatchingSkill', text: '订机票' }),
    ]);
    expect((res.body.transcript[0] as { message: string }).message).toContain(
      'createTodo (创建待办 Create a to-do)',
    );
    expect(skill.calls).toHaveLength(0);
  });
});
