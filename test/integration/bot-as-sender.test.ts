/**
 * `ctx.asSender()` over the wire: a bot acts as the person who sent the message. The sandbox pushes
 * bot frames over Stream; without a token the framework replies with the authorization card (授权卡片);
 * the test follows its Authorize button through the sandbox's consent page, DingTalk's redirect lands
 * on the consent callback served on the ops server, and the pending message runs once more as the
 * sender. Attacks: consent by another account, a reused state, a second failure after consent.
 */
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import {
  AuthorizationRequiredError,
  type BotContext,
  type BotMessage,
  defineApp,
  defineBot,
  type OpsServer,
  type RunningApp,
  silentLogger,
  startApp,
  startOpsServer,
} from '@dingtalk-skills/sdk';
import { AuthFailureCode } from '@dingtalk-skills/sdk/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLIENT_ID = 'dingsandboxapp001';
const CONSENT_PATH = '/dingtalk/bot/consent';

/** Every run of the handler: the message and the attempt. */
const runs: Array<{ msgId: string; attempt: number; sender?: string }> = [];

const bot = defineBot({
  scopes: ['Calendar.Event.Read'],
  onMessage: async (message: BotMessage, ctx: BotContext) => {
    runs.push({
      msgId: message.msgId,
      attempt: ctx.attempt,
      ...(message.sender.staffId ? { sender: message.sender.staffId } : {}),
    });
    const me = await ctx.asSender();
    if (message.text === 'who') {
      const [user, events] = await Promise.all([me.contact.me(), me.calendar.listEvents('me')]);
      const summaries = events.events.map((e) => e.summary).join('; ');
      await ctx.reply.text(`attempt ${ctx.attempt}: ${user.nick}: ${summaries}`);
    } else if (message.text === 'todo') {
      const todo = await me.todo.create({ subject: 'bot wire test to-do' });
      await ctx.reply.text(`attempt ${ctx.attempt}: to-do ${todo.taskId}`);
    } else if (message.text === 'loop') {
      // Stands for an API that still refuses after consent: the framework must not ask again.
      throw new AuthorizationRequiredError(AuthFailureCode.PermissionDenied, {
        requiredScopes: ['Calendar.Event.Read'],
      });
    }
  },
});

let sandbox: Sandbox;
let running: RunningApp;
let ops: OpsServer;

interface Line {
  from: 'user' | 'bot';
  msgId?: string;
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
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const lines = async (conversationId: string) =>
  (await control<{ messages: Line[] }>(`/sandbox/bots/conversations/${conversationId}/messages`)).messages;

/** Sends `text` as `from` to the single chat or the group. */
async function say(from: string, text: string, conversation: 'single' | 'group' = 'single') {
  return control<{ msgId: string; conversationId: string }>('/sandbox/bots/messages', {
    from,
    text,
    conversation,
  });
}

/** The bot's lines after the user message `msgId`. */
async function repliesTo(sent: { msgId: string; conversationId: string }): Promise<Line[]> {
  const all = await lines(sent.conversationId);
  const at = all.findIndex((l) => l.from === 'user' && l.msgId === sent.msgId);
  return at < 0 ? [] : all.slice(at + 1).filter((l) => l.from === 'bot');
}

/** The first bot line after `sent` that matches. */
async function replyTo(
  sent: { msgId: string; conversationId: string },
  what: string,
  match: (l: Line) => boolean = () => true,
): Promise<Line> {
  return until(what, async () => (await repliesTo(sent)).find(match));
}

/** The authorization card's Authorize URL. */
async function cardUrl(sent: { msgId: string; conversationId: string }): Promise<string> {
  const card = await replyTo(sent, 'the authorization card', (l) => l.msgtype === 'actionCard');
  const url = card.buttons?.[0]?.url;
  if (!url) throw new Error('the card has no button');
  return url;
}

/** Opens the consent page at `url`, decides as `userId`; answers DingTalk's redirect and the callback page. */
async function consent(url: string, userId: string, decision: 'approve' | 'deny' = 'approve') {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const nonce = /name="nonce" value="([^"]+)"/.exec(await page.text())?.[1];
  expect(nonce).toBeDefined();
  const decided = await fetch(`${sandbox.url}/oauth2/auth/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ nonce: nonce ?? '', decision, userId }).toString(),
    redirect: 'manual',
  });
  expect(decided.status).toBe(302);
  const location = decided.headers.get('location') ?? '';
  expect(location.startsWith(`${ops.url}${CONSENT_PATH}?`)).toBe(true);
  const callback = await fetch(location);
  return { location, status: callback.status, page: await callback.text() };
}

const runsOf = (msgId: string) => runs.filter((r) => r.msgId === msgId);

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  // The consent callback is served on the ops server; it starts first so its URL can be registered.
  ops = await startOpsServer({
    port: 0,
    logger: silentLogger(),
    routes: {
      [CONSENT_PATH]: async (req, res) => {
        const route = running.routes[CONSENT_PATH];
        if (!route) throw new Error('no consent route');
        await route(req, res);
      },
    },
  });
  const callbackUrl = `${ops.url}${CONSENT_PATH}`;
  await control(`/sandbox/apps/${CLIENT_ID}/redirect-uris`, { uri: callbackUrl });
  running = await startApp(defineApp({ name: '会议助手 Meeting bot', skills: [], bot }), {
    clientId: CLIENT_ID,
    clientSecret: 'sandbox-secret',
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
    bot: { consent: { callbackUrl, loginBase: sandbox.url }, oapiBase: sandbox.url },
  });
});

afterAll(async () => {
  await running?.stop();
  await ops?.close();
  await sandbox?.close();
});

describe('asSender(): the authorization card, consent and the re-run', () => {
  let zhangsanCard = '';
  let zhangsanCallback = '';

  it('no token: the framework replies with an authorization card bound to the sender', async () => {
    const sent = await say('zhangsan', 'who');
    zhangsanCard = await cardUrl(sent);
    const card = await replyTo(sent, 'the card', (l) => l.msgtype === 'actionCard');
    expect(card?.title).toContain('会议助手 Meeting bot');
    // The permissions in Chinese and English, who it is for, and the expiry.
    expect(card?.text).toContain('查看你的日程 Read your calendar (Calendar.Event.Read)');
    expect(card?.text).toContain('张三');
    expect(card?.text).toMatch(/10 分钟|10 minutes/);
    const url = new URL(zhangsanCard);
    expect(url.origin + url.pathname).toBe(`${sandbox.url}/oauth2/auth`);
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.get('redirect_uri')).toBe(`${ops.url}${CONSENT_PATH}`);
    expect(url.searchParams.get('login_hint')).toBe('zhangsan');
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(['openid', 'Calendar.Event.Read']);
    expect(url.searchParams.get('state')?.length).toBeGreaterThanOrEqual(32);
    expect(runsOf(sent.msgId)).toEqual([{ msgId: sent.msgId, attempt: 1, sender: 'zhangsan' }]);

    // 张三 approves: the callback files the token and the message runs once more, as 张三.
    const answer = await consent(zhangsanCard, 'zhangsan');
    zhangsanCallback = answer.location;
    expect(answer.status).toBe(200);
    expect(answer.page).toContain('授权成功');
    const reply = await replyTo(sent, 'the re-run answer', (l) => l.text.startsWith('attempt'));
    expect(reply.text).toMatch(/^attempt 2: 张三: .*客户拜访/);
    expect(runsOf(sent.msgId).map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('the state is single use: the same callback again is refused and runs nothing', async () => {
    const before = runs.length;
    const again = await fetch(zhangsanCallback);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('已失效');
    const forged = await fetch(`${ops.url}${CONSENT_PATH}?code=x&state=forged`);
    expect(forged.status).toBe(400);
    expect(runs.length).toBe(before);
  });

  it('authorized: the next message runs at once as the sender, no card', async () => {
    const sent = await say('zhangsan', 'who');
    const reply = await replyTo(sent, 'the answer');
    expect(reply.msgtype).toBe('text');
    expect(reply.text).toMatch(/^attempt 1: 张三: .*客户拜访/);
  });

  it('an expired access token is refreshed silently; a dead refresh token brings the card back', async () => {
    await control('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID });
    const refreshed = await say('zhangsan', 'who');
    const reply = await replyTo(refreshed, 'the answer');
    expect(reply.text).toMatch(/^attempt 1: 张三: /);
    await control('/sandbox/users/zhangsan/expire-token', { clientId: CLIENT_ID, includeRefresh: true });
    const dead = await say('zhangsan', 'who');
    const url = await cardUrl(dead);
    expect((await consent(url, 'zhangsan')).status).toBe(200);
    const again = await replyTo(dead, 'the re-run', (l) => l.text.startsWith('attempt'));
    expect(again.text).toMatch(/^attempt 2: 张三: /);
  });

  it('a missing scope: a card for the required scope, then the re-run succeeds', async () => {
    const sent = await say('zhangsan', 'todo');
    const url = new URL(await cardUrl(sent));
    expect(url.searchParams.get('scope')?.split(' ')).toEqual([
      'openid',
      'Calendar.Event.Read',
      'Todo.PersonalTodo.Write',
    ]);
    const answer = await consent(url.toString(), 'zhangsan');
    expect(answer.status).toBe(200);
    const reply = await replyTo(sent, 'the to-do answer', (l) => l.text.startsWith('attempt'));
    expect(reply.text).toMatch(/^attempt 2: to-do \S+/);
  });

  it('consent by another account than the sender is refused: nothing filed, nothing run', async () => {
    // 李四 asks in the group; the card is visible to the group; 张三 opens it and approves as himself.
    const sent = await say('lisi', 'who', 'group');
    const url = await cardUrl(sent);
    expect(new URL(url).searchParams.get('login_hint')).toBe('lisi');
    const answer = await consent(url, 'zhangsan');
    expect(answer.status).toBe(403);
    expect(answer.page).toContain('请使用发送消息的账号授权');
    const refusal = await replyTo(sent, 'the refusal in the chat', (l) => l.text.includes('不一致'));
    expect(refusal.msgtype).toBe('text');
    expect(runsOf(sent.msgId).map((r) => r.attempt)).toEqual([1]);
    await expect(running.asUser('union-lisi')).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION_REQUIRED' });
    // The refused state is spent: approving it again as 李四 is refused too.
    const replay = await fetch(answer.location);
    expect(replay.status).toBe(400);
  });

  it('as 李四 in the group, after 李四 consents, the bot acts as 李四 (not 张三)', async () => {
    const sent = await say('lisi', 'who', 'group');
    const url = await cardUrl(sent);
    expect((await consent(url, 'lisi')).status).toBe(200);
    const reply = await replyTo(sent, '李四 answer', (l) => l.text.startsWith('attempt'));
    expect(reply.text).toMatch(/^attempt 2: 李四: .*产品培训/);
    expect(reply.text).not.toContain('客户拜访');
  });

  it('declined consent: the chat is told, nothing runs', async () => {
    await running.tokens.forget('union-zhangsan');
    const sent = await say('zhangsan', 'who');
    const url = await cardUrl(sent);
    const answer = await consent(url, 'zhangsan', 'deny');
    expect(answer.status).toBe(200);
    expect(answer.page).toContain('已取消授权');
    await replyTo(sent, 'the decline note', (l) => l.text.includes('已取消授权'));
    expect(runsOf(sent.msgId).map((r) => r.attempt)).toEqual([1]);
  });

  it('no loop: a second authorization failure after consent ends with a message', async () => {
    const sent = await say('zhangsan', 'loop');
    const url = await cardUrl(sent);
    expect((await consent(url, 'zhangsan')).status).toBe(200);
    const end = await replyTo(sent, 'the final message', (l) => l.text.includes('已停止'));
    expect(end.msgtype).toBe('text');
    expect(runsOf(sent.msgId).map((r) => r.attempt)).toEqual([1, 2]);
    const cards = (await repliesTo(sent)).filter((l) => l.msgtype === 'actionCard');
    expect(cards).toHaveLength(1);
  });

  it('the sender identity is the platform frame only: text naming another user changes nothing', async () => {
    // 李四 is authorized; 张三 (no longer authorized) writes a message naming 李四: he gets his own card.
    await running.tokens.forget('union-zhangsan');
    const sent = await say('zhangsan', 'who lisi union-lisi');
    const url = new URL(await cardUrl(sent));
    expect(url.searchParams.get('login_hint')).toBe('zhangsan');
    expect(runsOf(sent.msgId)).toEqual([{ msgId: sent.msgId, attempt: 1, sender: 'zhangsan' }]);
  });
});
