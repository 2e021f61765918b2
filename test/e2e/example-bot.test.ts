/**
 * The example bot (`examples/bot`) under `dingtalk-skills dev`, driven over the wire through the
 * sandbox's bot control API (`/sandbox/bots`): as 张三 in the single chat, "我今天有什么会?" → the
 * authorization card → consent on the sandbox's page → the answer streams into an AI card from 张三's
 * calendar; as 李四 in the group the same bot acts as 李四; a to-do is created as the sender after the
 * confirm card, which nobody else can confirm; a redelivered message runs once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProcess, startDev } from './dev-process.js';

let dev: DevProcess;
let opsUrl = '';

interface Line {
  from: 'user' | 'bot';
  msgId?: string;
  msgtype: string;
  text: string;
  buttons?: Array<{ title: string; url: string }>;
}
interface Card {
  outTrackId: string;
  templateId: string;
  flowStatus: string | null;
  text: string;
  params: Record<string, string>;
  spaces: Array<{ spaceType: string; id: string }>;
}

async function api<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${dev.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 800; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}\n${dev.output().slice(-3000)}`);
}

type Sent = { msgId: string; conversationId: string };
const say = (from: string, text: string, conversation: 'single' | 'group' = 'single') =>
  api<Sent & { delivery: { status: string } }>('/sandbox/bots/messages', { from, text, conversation });

async function botLines(sent: Sent): Promise<Line[]> {
  const { messages } = await api<{ messages: Line[] }>(
    `/sandbox/bots/conversations/${sent.conversationId}/messages`,
  );
  const at = messages.findIndex((l) => l.from === 'user' && l.msgId === sent.msgId);
  return at < 0 ? [] : messages.slice(at + 1).filter((l) => l.from === 'bot');
}

/** The Authorize URL of the authorization card that answered `sent`. */
async function authorizeUrl(sent: Sent): Promise<string> {
  const card = await until('the authorization card', async () =>
    (await botLines(sent)).find((l) => l.msgtype === 'actionCard'),
  );
  return card.buttons?.[0]?.url ?? '';
}

/** The consent page as `userId`, Approve; then DingTalk's redirect to the bot's callback. */
async function consent(url: string, userId: string): Promise<{ status: number; page: string }> {
  const html = await (await fetch(url)).text();
  const nonce = /name="nonce" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const decided = await fetch(`${dev.url}/oauth2/auth/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ nonce, decision: 'approve', userId }).toString(),
    redirect: 'manual',
  });
  const location = decided.headers.get('location') ?? '';
  expect(location.startsWith(`${opsUrl}/dingtalk/bot/consent?`)).toBe(true);
  const callback = await fetch(location);
  return { status: callback.status, page: await callback.text() };
}

/** A finished card in `spaceId` whose text matches. */
const finishedCard = (spaceId: string, match: RegExp) =>
  until(`a finished card in ${spaceId} matching ${match}`, async () =>
    (await api<{ cards: Card[] }>(`/sandbox/cards?spaceId=${encodeURIComponent(spaceId)}`)).cards.find(
      (c) => c.flowStatus === '3' && match.test(c.text),
    ),
  );

const press = (outTrackId: string, userId: string, conversationId?: string) =>
  api<{ delivery: { status: string; response?: unknown } }>('/sandbox/bots/card-callbacks', {
    outTrackId,
    userId,
    actionId: 'confirm',
    ...(conversationId ? { conversationId } : {}),
  });

beforeAll(async () => {
  dev = await startDev('examples/bot', 40_000);
  opsUrl = /consent callback (http:\/\/127\.0\.0\.1:\d+)\//.exec(dev.output())?.[1] ?? '';
  expect(opsUrl).not.toBe('');
}, 60_000);

afterAll(async () => {
  await dev?.stop();
});

describe('the example meeting bot under dingtalk-skills dev', () => {
  it('张三, single chat: authorization card → consent → his calendar streams into an AI card', async () => {
    const sent = await say('zhangsan', '我今天有什么会?');
    expect(sent.delivery.status).toBe('answered');
    const url = new URL(await authorizeUrl(sent));
    expect(url.searchParams.get('login_hint')).toBe('zhangsan');
    expect(url.searchParams.get('scope')?.split(' ')).toEqual([
      'openid',
      'Calendar.Event.Read',
      'Todo.PersonalTodo.Write',
    ]);
    const answer = await consent(url.toString(), 'zhangsan');
    expect(answer.status).toBe(200);
    const card = await finishedCard('zhangsan', /客户拜访/);
    expect(card.text).toMatch(/张三今天/);
    expect(card.text).toContain('销售周会');
    expect(card.spaces[0]).toMatchObject({ spaceType: 'IM_ROBOT', id: 'zhangsan' });
  });

  it('李四 in the group: the same bot acts as 李四, not 张三', async () => {
    const sent = await say('lisi', '我今天有什么会?', 'group');
    const url = await authorizeUrl(sent);
    expect(new URL(url).searchParams.get('login_hint')).toBe('lisi');
    expect((await consent(url, 'lisi')).status).toBe(200);
    const card = await finishedCard(sent.conversationId, /李四今天/);
    expect(card.text).toContain('产品培训');
    expect(card.text).not.toContain('客户拜访');
    expect(card.spaces[0]).toMatchObject({ spaceType: 'IM_GROUP', id: sent.conversationId });
  });

  it('a to-do as the sender after the confirm card; only the sender can confirm; a redelivery runs once', async () => {
    const sent = await say('zhangsan', '待办 写周报 weekly report', 'group');
    const outTrackId = `todo-confirm:${sent.msgId}`;
    const cardOf = async () => {
      const res = await fetch(`${dev.url}/sandbox/cards/${encodeURIComponent(outTrackId)}`);
      return res.ok ? ((await res.json()) as Card) : undefined;
    };
    // An interactive card (互动卡片) with 确认/取消 buttons, in the group.
    const confirm = await until('the confirm card', cardOf);
    expect(confirm.params.text).toContain('以 张三 的身份创建待办「写周报 weekly report」');
    expect(JSON.parse(confirm.params.actions ?? '[]')).toEqual([
      { id: 'confirm', title: '确认 Confirm' },
      { id: 'cancel', title: '取消 Cancel' },
    ]);
    expect(confirm.spaces[0]).toMatchObject({ spaceType: 'IM_GROUP', id: sent.conversationId });

    // The same message again (new frame messageId, same msgId): acked, not run again.
    const again = await api<{ delivery: { status: string } }>(
      `/sandbox/bots/messages/${sent.msgId}/redeliver`,
      {},
    );
    expect(again.delivery.status).toBe('answered');
    const metrics = await (await fetch(`${opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/bot_messages_total\{outcome="duplicate"\} 1\b/);

    // 李四 presses 张三's confirm: told privately, nothing created.
    const byLisi = await press(outTrackId, 'lisi', sent.conversationId);
    expect(JSON.stringify(byLisi.delivery.response)).toContain('只有 张三 可以确认');
    const todosOf = async (userId: string) =>
      JSON.stringify((await api<{ todos: unknown[] }>(`/sandbox/users/${userId}/data`)).todos);
    expect(await todosOf('zhangsan')).not.toContain('写周报');

    // 张三 confirms: the to-do is his, created with his token.
    const byZhangsan = await press(outTrackId, 'zhangsan', sent.conversationId);
    expect(JSON.stringify(byZhangsan.delivery.response)).toContain('已为 张三 创建待办');
    expect(await todosOf('zhangsan')).toContain('写周报 weekly report');
    expect(await todosOf('lisi')).not.toContain('写周报');
    // The sandbox applies the answer to the card, as DingTalk does.
    expect((await cardOf())?.params.status).toBe('done');
    // The confirm is single use.
    const twice = await press(outTrackId, 'zhangsan', sent.conversationId);
    expect(JSON.stringify(twice.delivery.response)).toContain('已失效');
    // Exactly one confirm card for the message.
    const cards = await api<{ cards: Card[] }>(
      `/sandbox/cards?spaceId=${encodeURIComponent(sent.conversationId)}`,
    );
    expect(cards.cards.filter((c) => c.outTrackId === outTrackId)).toHaveLength(1);
  });
});
