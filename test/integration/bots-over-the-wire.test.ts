/**
 * Chat bots over the wire: the sandbox pushes bot message frames (`/v1.0/im/bot/messages/get`) over a
 * real Stream connection to an app started with `startApp`; the bot replies through the session
 * webhook (会话Webhook) and, once it has expired, through the robot OpenAPIs with the app token.
 */
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import {
  type BotContext,
  type BotMessage,
  defineApp,
  defineBot,
  Metrics,
  type RunningApp,
  silentLogger,
  startApp,
} from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLIENT_ID = 'dingsandboxapp001';
const CLIENT_SECRET = 'sandbox-secret';

/** Every message the handler ran for, with its context (replies are made from the tests). */
const seen: Array<{ message: BotMessage; ctx: BotContext }> = [];

const bot = defineBot({
  onMessage: async (message, ctx) => {
    seen.push({ message, ctx });
    if (message.text === 'ping') await ctx.reply.text(`pong ${message.sender.staffId}`);
  },
  cardActions: {
    'confirm-': (action) => ({
      cardData: { status: action.actionIds[0] === 'confirm' ? 'done' : 'cancelled', by: action.userId },
      privateData: { pressed: true, params: action.params },
    }),
    'confirm-readonly-': () => undefined,
  },
});

const app = defineApp({ name: 'bot wire test', skills: [], bot });

let sandbox: Sandbox;
let running: RunningApp;
const metrics = new Metrics({ defaultMetrics: false });

interface Line {
  from: 'user' | 'bot';
  via?: string;
  msgtype: string;
  title?: string;
  text: string;
  buttons?: Array<{ title: string; url: string }>;
}

async function control<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Sends a message as `from` and waits until the handler has it. */
async function say(from: string, text: string, conversation: 'single' | 'group' = 'single') {
  const sent = await control<{ msgId: string; conversationId: string; delivery: { status: string } }>(
    '/sandbox/bots/messages',
    { from, text, conversation },
  );
  expect(sent.delivery.status).toBe('answered');
  const entry = await until(`handler for ${sent.msgId}`, () =>
    seen.find((s) => s.message.msgId === sent.msgId),
  );
  return { ...sent, ...entry };
}

const lines = async (conversationId: string) =>
  (await control<{ messages: Line[] }>(`/sandbox/bots/conversations/${conversationId}/messages`)).messages;

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  running = await startApp(app, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
    metrics,
  });
});

afterAll(async () => {
  await running?.stop();
  await sandbox?.close();
});

describe('bot messages over Stream', () => {
  it('a single chat message carries the platform fields; the reply goes through the session webhook', async () => {
    const { message, conversationId } = await say('zhangsan', 'ping');
    expect(message.conversation).toMatchObject({ id: conversationId, kind: 'single' });
    expect(message.sender).toMatchObject({ staffId: 'zhangsan', nick: '张三', isAdmin: false });
    expect(message.sender.id).toMatch(/^\$:LWCP_v1:\$/);
    expect(message.body).toEqual({ msgtype: 'text', text: 'ping' });
    expect(message.sessionWebhook?.url).toContain('/robot/sendBySession?session=');
    expect(message.sessionWebhook?.expiresAt).toBeGreaterThan(sandbox.context.clock.now());
    const convo = await until('the pong', async () => {
      const l = await lines(conversationId);
      return l.some((x) => x.from === 'bot') ? l : undefined;
    });
    expect(convo.at(-1)).toMatchObject({
      from: 'bot',
      via: 'sessionWebhook',
      msgtype: 'text',
      text: 'pong zhangsan',
    });
  });

  it('a group message: kind group, title, @-mention, text after the mention trimmed; markdown and action card replies', async () => {
    const { message, conversationId, ctx } = await say('lisi', 'hello bot', 'group');
    expect(message.conversation.kind).toBe('group');
    expect(message.conversation.title).toBeTruthy();
    expect(message.isInAtList).toBe(true);
    expect(message.atUsers).toHaveLength(1);
    expect(message.text).toBe('hello bot');
    expect(message.sender.staffId).toBe('lisi');
    await expect(ctx.reply.markdown('周报', '## 本周\n- 完成')).resolves.toEqual({ via: 'sessionWebhook' });
    await ctx.reply.actionCard({
      title: '审批',
      text: '是否同意?',
      buttons: [
        { title: '同意', url: 'https://example.com/yes' },
        { title: '拒绝', url: 'https://example.com/no' },
      ],
    });
    const bot = (await lines(conversationId)).filter((l) => l.from === 'bot');
    expect(bot.at(-2)).toMatchObject({ via: 'sessionWebhook', msgtype: 'markdown', title: '周报' });
    expect(bot.at(-1)).toMatchObject({ via: 'sessionWebhook', msgtype: 'actionCard', title: '审批' });
    expect(bot.at(-1)?.buttons).toHaveLength(2);
  });

  it('other message types: picture and file payloads come from `content`', async () => {
    const sent = await control<{ msgId: string }>('/sandbox/bots/messages', {
      from: 'zhangsan',
      msgtype: 'file',
      content: { downloadCode: 'dl-1', fileName: '报告.pdf', fileId: 'f1', spaceId: 's1' },
    });
    const { message } = await until('file message', () => seen.find((s) => s.message.msgId === sent.msgId));
    expect(message.body).toEqual({
      msgtype: 'file',
      downloadCode: 'dl-1',
      fileName: '报告.pdf',
      fileId: 'f1',
      spaceId: 's1',
    });
    expect(message.text).toBe('');
  });

  it('a redelivered message (new messageId, same msgId) runs the handler once', async () => {
    const { msgId } = await say('zhangsan', 'once');
    const again = await control<{ delivery: { status: string; messageId: string } }>(
      `/sandbox/bots/messages/${msgId}/redeliver`,
      {},
    );
    expect(again.delivery.status).toBe('answered');
    // A later message is handled after the redelivery's ack, so the duplicate had its chance to run.
    await say('zhangsan', 'after');
    expect(seen.filter((s) => s.message.msgId === msgId)).toHaveLength(1);
    expect(await metrics.render()).toMatch(/dingtalk_bot_messages_total\{outcome="duplicate"\} 1/);
  });
});

describe('replies after the session webhook expired', () => {
  it('single chat: the webhook answers "expired" -> oToMessages/batchSend to the sender', async () => {
    const { ctx, conversationId } = await say('zhangsan', 'later please');
    await control(`/sandbox/bots/conversations/${conversationId}/expire-webhooks`, {});
    const receipt = await ctx.reply.text('迟到的回复 late reply');
    expect(receipt.via).toBe('openapi');
    expect(receipt.processQueryKey).toBeTruthy();
    const last = (await lines(conversationId)).at(-1);
    expect(last).toMatchObject({ from: 'bot', via: 'oToMessages/batchSend', text: '迟到的回复 late reply' });
  });

  it('group: expired by the clock -> groupMessages/send; action card keeps its buttons', async () => {
    const { ctx, conversationId } = await say('lisi', 'remind me', 'group');
    sandbox.context.clock.advance(91 * 60 * 1000);
    const receipt = await ctx.reply.actionCard({
      title: '提醒',
      text: '时间到了',
      buttons: [{ title: '查看', url: 'https://example.com/x' }],
    });
    expect(receipt.via).toBe('openapi');
    const last = (await lines(conversationId)).at(-1);
    expect(last).toMatchObject({ via: 'groupMessages/send', msgtype: 'actionCard', title: '提醒' });
    expect(last?.buttons).toEqual([{ title: '查看', url: 'https://example.com/x' }]);
  });
});

describe('limits and refusals', () => {
  it('documented limits are enforced before anything is sent, with ERR_INVALID_INPUT', async () => {
    const { ctx, conversationId } = await say('zhangsan', 'limits');
    const before = (await lines(conversationId)).length;
    await expect(ctx.reply.text('长'.repeat(6_000))).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(
      ctx.reply.actionCard({
        title: 't',
        text: 'x',
        buttons: Array.from({ length: 6 }, (_, i) => ({ title: `b${i}`, url: 'https://example.com' })),
      }),
    ).rejects.toThrow(/1 to 5 buttons/);
    await expect(ctx.reply.markdown('', 'x')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(ctx.reply.text('x', { at: Array.from({ length: 21 }, (_, i) => `u${i}`) })).rejects.toThrow(
      /at most 20/,
    );
    expect((await lines(conversationId)).length).toBe(before);
  });

  it('reply.stream() works without config: an AI card (AiCards + aiCardStreamer) in the chat', async () => {
    const { ctx, conversationId } = await say('zhangsan', 'stream please');
    const before = (await lines(conversationId)).length;
    const stream = await ctx.reply.stream();
    await stream.append('今天的会议：');
    await stream.append('\n- 10:00 客户拜访');
    await stream.finish();
    const card = await control<{
      text: string;
      flowStatus: string;
      spaces: Array<{ spaceType: string; id: string }>;
    }>(`/sandbox/cards/${stream.outTrackId}`);
    expect(card.text).toBe('今天的会议：\n- 10:00 客户拜访');
    expect(card.flowStatus).toBe('3');
    expect(card.spaces[0]).toMatchObject({ spaceType: 'IM_ROBOT', id: 'zhangsan' });
    // The card is the reply: no markdown fallback went to the chat.
    expect((await lines(conversationId)).slice(before)).toEqual([]);
  });

  it('reply.stream() in a group streams into the group; a QPS-limited card API still delivers', async () => {
    const setQps = (qps: number) =>
      fetch(`${sandbox.url}/sandbox/cards/qps-limit`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ qps }),
      });
    const { qps: was } = await control<{ qps: number }>('/sandbox/cards/qps-limit');
    expect((await setQps(2)).ok).toBe(true);
    await fetch(`${sandbox.url}/sandbox/cards/stats`, { method: 'DELETE' });
    try {
      const { ctx, conversationId } = await say('lisi', 'stream in the group', 'group');
      const stream = await ctx.reply.stream();
      for (let i = 0; i < 6; i++) await stream.append(`${i}`);
      await stream.finish();
      const card = await control<{
        text: string;
        flowStatus: string;
        spaces: Array<{ spaceType: string; id: string }>;
      }>(`/sandbox/cards/${stream.outTrackId}`);
      expect(card).toMatchObject({ text: '012345', flowStatus: '3' });
      expect(card.spaces[0]).toMatchObject({ spaceType: 'IM_GROUP', id: conversationId });
    } finally {
      await setQps(was);
    }
  });

  it('the robot APIs refuse a robotCode of another app and more than 20 users', async () => {
    const token = await running.openapi.app.getAccessToken();
    const post = (path: string, body: unknown) =>
      fetch(`${sandbox.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': token },
        body: JSON.stringify(body),
      });
    const msg = { msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'hi' }) };
    const other = await post('/v1.0/robot/oToMessages/batchSend', {
      ...msg,
      robotCode: 'someone-else',
      userIds: ['lisi'],
    });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { code: string }).code).toBe('invalidParameter.robotCode.auth');
    const many = await post('/v1.0/robot/oToMessages/batchSend', {
      ...msg,
      robotCode: CLIENT_ID,
      userIds: Array.from({ length: 21 }, () => 'lisi'),
    });
    expect(((await many.json()) as { code: string }).code).toBe('invalidParameter.userIds.overMax');
    const none = await fetch(`${sandbox.url}/v1.0/robot/groupMessages/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...msg, robotCode: CLIENT_ID, openConversationId: 'cidGroupSandbox0001' }),
    });
    expect(none.status).toBe(400);
  });

  it('a malformed bot frame is acked and dropped; the app keeps serving', async () => {
    const result = await sandbox.gateway.invokeCallback({
      topic: '/v1.0/im/bot/messages/get',
      rawData: '{"msgId": 5}',
      timeoutMs: 5_000,
    });
    expect(result.status).toBe('answered');
    await say('zhangsan', 'still here');
  });
});

describe('card callbacks (/v1.0/card/instances/callback)', () => {
  const press = (body: Record<string, unknown>) =>
    control<{ delivery: { status: string; response: unknown } }>('/sandbox/bots/card-callbacks', body);

  it('routes by outTrackId prefix; the presser comes from the platform; the update is the ack response', async () => {
    const { delivery } = await press({ outTrackId: 'confirm-todo-1', userId: 'lisi', params: { n: 2 } });
    expect(delivery.status).toBe('answered');
    expect(delivery.response).toEqual({
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
      cardData: { cardParamMap: { status: 'done', by: 'lisi' } },
      userPrivateData: { cardParamMap: { pressed: 'true', params: '{"n":2}' } },
    });
    const cancel = await press({ outTrackId: 'confirm-todo-1', userId: 'zhangsan', actionId: 'cancel' });
    expect(cancel.delivery.response).toMatchObject({
      cardData: { cardParamMap: { status: 'cancelled', by: 'zhangsan' } },
    });
  });

  it('the longest prefix wins; no update and unrouted cards answer null', async () => {
    expect((await press({ outTrackId: 'confirm-readonly-1', userId: 'lisi' })).delivery.response).toBeNull();
    expect((await press({ outTrackId: 'other-card', userId: 'lisi' })).delivery.response).toBeNull();
  });

  it('a malformed card callback is answered without an update', async () => {
    const result = await sandbox.gateway.invokeCallback({
      topic: '/v1.0/card/instances/callback',
      rawData: '{"userId": "lisi"}',
      timeoutMs: 5_000,
    });
    expect(result).toMatchObject({ status: 'answered', response: null });
  });
});
