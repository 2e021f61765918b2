/**
 * Every `x-dingtalk-context` parameter DingTalk defines reaches the skill with a realistic value, and
 * the `sessionWebhook` accepts DingTalk's reply formats until it expires. Over the wire: a raw Stream
 * skill reads the query of the Graph request; replies are posted with fetch; the conversation is read
 * from the control API.
 */
import { SEED_APP } from '@dingtalk-skills/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, InvokeOutcome } from '../../src/assistant/index.js';
import { type Harness, http, ScriptedSkill, startHarness } from './harness.js';

const CONTEXT_SPEC = `openapi: 3.0.1
info: {title: Context, version: 1.0.0}
x-dingtalk-protocol: stream
paths:
  /v1/actions/ctx/show:
    get:
      summary: 显示上下文 Show context
      description: Echoes every context parameter.
      operationId: showContext
      parameters:
        - {name: userId, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: userId}}}
        - {name: unionId, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: unionId}}}
        - {name: jobNum, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: jobNum}}}
        - {name: oauthAuthCode, in: query, schema: {type: string, x-dingtalk-context: {property: currentUser, format: oauthAuthCode}}}
        - {name: corpId, in: query, schema: {type: string, x-dingtalk-context: {property: currentOrg, format: corpId}}}
        - {name: raw, in: query, schema: {type: string, x-dingtalk-context: {property: currentInput, format: raw}}}
        - {name: inputAttribute, in: query, schema: {type: string, x-dingtalk-context: {property: currentInput, format: attribute}}}
        - {name: openConversationId, in: query, schema: {type: string, x-dingtalk-context: {property: currentConversation, format: openConversationId}}}
        - {name: conversationToken, in: query, schema: {type: string, x-dingtalk-context: {property: currentConversation, format: conversationToken}}}
        - {name: sessionWebhook, in: query, schema: {type: string, x-dingtalk-context: {property: currentConversation, format: sessionWebhook}}}
      responses:
        '200': {description: OK, content: {application/json: {schema: {type: object}}}}
`;

let h: Harness;
let skill: ScriptedSkill;

beforeAll(async () => {
  h = await startHarness();
  h.assistant.registerSkillsYaml(SEED_APP.clientId, CONTEXT_SPEC);
  skill = await ScriptedSkill.connect(h.url, () => ({ status: 200, body: { ok: true } }));
});
afterAll(async () => {
  await skill.close();
  await h.close();
});

async function say(text: string): Promise<InvokeOutcome> {
  const res = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/say', {
    userId: 'zhangsan',
    text,
  });
  expect(res.status).toBe(200);
  return res.body;
}

async function conversation(id: string): Promise<Conversation> {
  const res = await http<Conversation>(h.url, 'GET', `/sandbox/assistant/conversations/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('x-dingtalk-context parameters', () => {
  it('sends every parameter DingTalk defines, with realistic values', async () => {
    const out = await say('showContext');
    expect(out.transcript.at(-1)).toMatchObject({ step: 'result', status: 200 });
    const q = skill.calls.at(-1)!.query;
    expect(q.userId).toBe('zhangsan');
    expect(q.unionId).toBe('union-zhangsan');
    expect(q.jobNum).toBe('SB0001');
    expect(q.corpId).toBe('dingsandboxcorp');
    expect(q.raw).toBe('showContext');
    expect(JSON.parse(q.inputAttribute as string)).toEqual({ inputType: 'text' });
    expect(q.openConversationId).toBe(out.conversationId);
    const conv = await conversation(out.conversationId);
    expect(q.conversationToken).toBe(conv.conversationToken);
    expect(q.conversationToken).not.toBe(q.openConversationId);
    expect(String(q.conversationToken).length).toBeGreaterThanOrEqual(32);
    expect(q.sessionWebhook).toMatch(new RegExp(`^${h.url}/robot/sendBySession\\?session=[0-9a-f]{32}$`));
    // oauthAuthCode only on the re-run right after consent.
    expect(q.oauthAuthCode).toBeUndefined();
    // The control API shows the webhook and its expiry (sessionWebhookExpiredTime: 90 minutes).
    expect(conv.sessionWebhook?.url).toBe(q.sessionWebhook);
    const ttl = 90 * 60 * 1000;
    expect(conv.sessionWebhook?.expiresAt).toBeGreaterThanOrEqual(out.transcript[0]!.at + ttl);
    expect(conv.sessionWebhook?.expiresAt).toBeLessThanOrEqual(out.transcript.at(-1)!.at + ttl);
    // A form invocation says so in inputAttribute, and each call gets its own webhook.
    const form = await http<InvokeOutcome>(h.url, 'POST', '/sandbox/assistant/invoke', {
      operationId: 'showContext',
      userId: 'lisi',
    });
    const q2 = skill.calls.at(-1)!.query;
    expect(form.status).toBe(200);
    expect(JSON.parse(q2.inputAttribute as string)).toEqual({ inputType: 'form' });
    expect(q2.jobNum).toBe('SB0002');
    expect(q2.raw).toBeUndefined();
    expect(q2.sessionWebhook).not.toBe(q.sessionWebhook);
    expect(q2.conversationToken).not.toBe(q.conversationToken);
  });
});

describe('sessionWebhook', () => {
  it('accepts text, markdown and actionCard replies and shows them in the conversation', async () => {
    const out = await say('showContext');
    const url = skill.calls.at(-1)!.query.sessionWebhook as string;
    const text = await post(url, {
      msgtype: 'text',
      text: { content: '已创建 created' },
      at: { atUserIds: ['zhangsan'] },
    });
    expect(text).toEqual({ status: 200, body: { errcode: 0, errmsg: 'ok' } });
    const md = await post(url, {
      msgtype: 'markdown',
      markdown: { title: '周报', text: '## 本周\n- 完成 A' },
    });
    expect(md.body).toEqual({ errcode: 0, errmsg: 'ok' });
    const card = await post(url, {
      msgtype: 'actionCard',
      actionCard: {
        title: '审批',
        text: '请处理',
        btnOrientation: '0',
        btns: [{ title: '查看', actionURL: 'https://example.com/a' }],
      },
    });
    expect(card.body).toEqual({ errcode: 0, errmsg: 'ok' });
    const single = await post(url, {
      msgtype: 'actionCard',
      actionCard: {
        title: '详情',
        text: '点击查看',
        singleTitle: '打开',
        singleURL: 'https://example.com/b',
      },
    });
    expect(single.body).toEqual({ errcode: 0, errmsg: 'ok' });
    const conv = await conversation(out.conversationId);
    const replies = conv.transcript.filter((s) => s.step === 'reply');
    expect(replies).toEqual([
      expect.objectContaining({
        msgtype: 'text',
        text: '已创建 created',
        atUserIds: ['zhangsan'],
        invocationId: out.invocationId,
      }),
      expect.objectContaining({ msgtype: 'markdown', title: '周报', text: '## 本周\n- 完成 A' }),
      expect.objectContaining({
        msgtype: 'actionCard',
        title: '审批',
        buttons: [{ title: '查看', url: 'https://example.com/a' }],
      }),
      expect.objectContaining({
        msgtype: 'actionCard',
        title: '详情',
        buttons: [{ title: '打开', url: 'https://example.com/b' }],
      }),
    ]);
  });

  it('refuses a body that is no reply format, and an unknown session, with an errcode (HTTP 200)', async () => {
    const out = await say('showContext');
    const url = skill.calls.at(-1)!.query.sessionWebhook as string;
    const bad = await post(url, { msgtype: 'image', image: {} });
    expect(bad.status).toBe(200);
    expect(bad.body.errcode).toBe(40035);
    const noCard = await post(url, { msgtype: 'actionCard', actionCard: { title: 't', text: 'x' } });
    expect(noCard.body.errcode).toBe(40035);
    for (const [type, text] of [
      ['application/json', '{not json'],
      ['text/plain', 'hello'],
      ['application/xml', '<a/>'],
    ] as const) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: text });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { errcode: number }).errcode).toBe(40035);
    }
    // A body nested past the sandbox's JSON depth bound is refused like any other bad body (not parsed).
    const deep = `{"msgtype":"text","text":{"content":"x"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const deepRes = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deep,
    });
    expect(((await deepRes.json()) as { errcode: number; errmsg: string }).errmsg).toContain('nested deeper');
    const unknown = await post(`${h.url}/robot/sendBySession?session=${'0'.repeat(32)}`, {
      msgtype: 'text',
      text: { content: 'x' },
    });
    expect(unknown.body.errcode).toBe(300001);
    const conv = await conversation(out.conversationId);
    expect(conv.transcript.filter((s) => s.step === 'reply')).toHaveLength(0);
  });

  it('answers an expired webhook (after sessionWebhookExpiredTime) with errcode 300001 and shows nothing', async () => {
    const out = await say('showContext');
    const url = skill.calls.at(-1)!.query.sessionWebhook as string;
    const before = await post(url, { msgtype: 'text', text: { content: 'in time' } });
    expect(before.body.errcode).toBe(0);
    const advanced = await http(h.url, 'POST', '/sandbox/clock/advance', { ms: 90 * 60 * 1000 });
    expect(advanced.status).toBe(200);
    const after = await post(url, { msgtype: 'text', text: { content: 'too late' } });
    expect(after).toEqual({
      status: 200,
      body: { errcode: 300001, errmsg: expect.stringContaining('expired') },
    });
    const conv = await conversation(out.conversationId);
    expect(
      conv.transcript.filter((s) => s.step === 'reply').map((s) => (s as { text: string }).text),
    ).toEqual(['in time']);
  });
});
