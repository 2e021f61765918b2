/**
 * The bot's consent across instances, over the wire: two app instances share one SQLite state store
 * (tokens, pending consents, dedup). The authorization card is sent by the instance that got the
 * message; DingTalk's redirect reaches the OTHER instance (a load balancer in front of the callback
 * URL); the pending message is found there, the token is filed in the shared store, and the message
 * runs once more on that instance. Then `afterConsent: 'askAgain'` tells the user to send it again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Sandbox } from '@dingtalk-skills/sandbox';
import {
  createSharedState,
  defineApp,
  defineBot,
  type OpsServer,
  type RunningApp,
  type SharedState,
  silentLogger,
  startApp,
  startOpsServer,
  TokenCipher,
} from '@dingtalk-skills/sdk';
import type { BotConsentConfig } from '@dingtalk-skills/sdk/bots';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLIENT_ID = 'dingsandboxapp001';
const PATH = '/dingtalk/bot/consent';
/** The public callback URL (behind the "load balancer"): the test routes it to an instance itself. */
const PUBLIC_CALLBACK = `http://bot.example.test${PATH}`;

const dir = mkdtempSync(join(tmpdir(), 'bot-consent-'));
const tokenKey = TokenCipher.generateKey();
const runs: Array<{ instance: string; msgId: string; attempt: number }> = [];

let sandbox: Sandbox;

interface Instance {
  name: string;
  app: RunningApp;
  ops: OpsServer;
  state: SharedState;
}
const instances: Instance[] = [];

async function startInstance(name: string, consent: Partial<BotConsentConfig> = {}): Promise<Instance> {
  const state = await createSharedState({
    url: `sqlite:${join(dir, 'state.db')}`,
    logger: silentLogger(),
    clientId: CLIENT_ID,
    tokenKeys: tokenKey,
  });
  const bot = defineBot({
    scopes: ['Calendar.Event.Read'],
    onMessage: async (message, ctx) => {
      runs.push({ instance: name, msgId: message.msgId, attempt: ctx.attempt });
      const me = await ctx.asSender();
      const user = await me.contact.me();
      await ctx.reply.text(`${name} attempt ${ctx.attempt}: ${user.nick}`);
    },
  });
  let app: RunningApp | undefined;
  const ops = await startOpsServer({
    port: 0,
    logger: silentLogger(),
    routes: {
      [PATH]: async (req, res) => {
        const route = app?.routes[PATH];
        if (!route) throw new Error('not started');
        await route(req, res);
      },
    },
  });
  app = await startApp(defineApp({ name: 'shared consent bot', skills: [], bot }), {
    clientId: CLIENT_ID,
    clientSecret: 'sandbox-secret',
    apiBase: sandbox.url,
    logger: silentLogger(),
    now: () => sandbox.context.clock.now(),
    tokenStore: state.tokenStore,
    dedupStore: state.dedupStore,
    refreshLock: state.refreshLock,
    answerStore: state.store,
    bot: {
      consent: { callbackUrl: PUBLIC_CALLBACK, loginBase: sandbox.url, ...consent },
      oapiBase: sandbox.url,
    },
  });
  const instance = { name, app, ops, state };
  instances.push(instance);
  return instance;
}

async function stopInstance(i: Instance): Promise<void> {
  await i.app.stop();
  await i.ops.close();
  await i.state.close();
  instances.splice(instances.indexOf(i), 1);
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

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Line = { from: string; msgId?: string; msgtype: string; text: string; buttons?: Array<{ url: string }> };
async function replies(sent: { msgId: string; conversationId: string }): Promise<Line[]> {
  const { messages } = await control<{ messages: Line[] }>(
    `/sandbox/bots/conversations/${sent.conversationId}/messages`,
  );
  const at = messages.findIndex((l) => l.from === 'user' && l.msgId === sent.msgId);
  return at < 0 ? [] : messages.slice(at + 1).filter((l) => l.from === 'bot');
}

/** Approves the card's consent as `userId`; returns DingTalk's redirect (to the public URL). */
async function approve(cardUrl: string, userId: string): Promise<URL> {
  const html = await (await fetch(cardUrl)).text();
  const nonce = /name="nonce" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const decided = await fetch(`${sandbox.url}/oauth2/auth/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ nonce, decision: 'approve', userId }).toString(),
    redirect: 'manual',
  });
  return new URL(decided.headers.get('location') ?? '');
}

/** The "load balancer": the callback request goes to `instance`. */
const callbackOn = async (instance: Instance, redirect: URL) =>
  fetch(`${instance.ops.url}${redirect.pathname}${redirect.search}`);

beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
  await control(`/sandbox/apps/${CLIENT_ID}/redirect-uris`, { uri: PUBLIC_CALLBACK });
});

afterAll(async () => {
  for (const i of [...instances]) await stopInstance(i);
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bot consent with shared state', () => {
  it('the card from one instance, the callback on the other: the token is shared and the message runs once more there', async () => {
    await startInstance('A');
    await startInstance('B');
    const sent = await control<{ msgId: string; conversationId: string }>('/sandbox/bots/messages', {
      from: 'zhangsan',
      text: 'who am i',
    });
    const card = await until('the card', async () =>
      (await replies(sent)).find((l) => l.msgtype === 'actionCard'),
    );
    const first = runs.find((r) => r.msgId === sent.msgId);
    const other = instances.find((i) => i.name !== first?.instance);
    if (!first || !other) throw new Error('no run');
    const redirect = await approve(card.buttons?.[0]?.url ?? '', 'zhangsan');
    expect(redirect.origin).toBe('http://bot.example.test');
    const res = await callbackOn(other, redirect);
    expect(res.status).toBe(200);
    const answer = await until('the re-run', async () =>
      (await replies(sent)).find((l) => l.text.includes('attempt 2')),
    );
    expect(answer.text).toBe(`${other.name} attempt 2: 张三`);
    expect(runs.filter((r) => r.msgId === sent.msgId)).toEqual([
      { instance: first.instance, msgId: sent.msgId, attempt: 1 },
      { instance: other.name, msgId: sent.msgId, attempt: 2 },
    ]);
    // Both instances now act as 张三 from the shared, encrypted token store.
    for (const i of instances)
      expect((await (await i.app.asUser('union-zhangsan')).contact.me()).nick).toBe('张三');
    // The state was spent on the other instance: replaying it on the first is refused.
    const firstInstance = instances.find((i) => i.name === first.instance);
    if (!firstInstance) throw new Error('no instance');
    expect((await callbackOn(firstInstance, redirect)).status).toBe(400);
    for (const i of [...instances]) await stopInstance(i);
  });

  it("afterConsent 'askAgain': after consent the user is told to send the message again; nothing re-runs", async () => {
    const one = await startInstance('C', { afterConsent: 'askAgain' });
    const sent = await control<{ msgId: string; conversationId: string }>('/sandbox/bots/messages', {
      from: 'lisi',
      text: 'who am i',
    });
    const card = await until('the card', async () =>
      (await replies(sent)).find((l) => l.msgtype === 'actionCard'),
    );
    const res = await callbackOn(one, await approve(card.buttons?.[0]?.url ?? '', 'lisi'));
    expect(res.status).toBe(200);
    const note = await until('the note', async () =>
      (await replies(sent)).find((l) => l.text.includes('请重新发送')),
    );
    expect(note.msgtype).toBe('text');
    expect(runs.filter((r) => r.msgId === sent.msgId).map((r) => r.attempt)).toEqual([1]);
    // Sent again, it runs as 李四 at once.
    const again = await control<{ msgId: string; conversationId: string }>('/sandbox/bots/messages', {
      from: 'lisi',
      text: 'who am i',
    });
    const answer = await until('the answer', async () =>
      (await replies(again)).find((l) => l.from === 'bot'),
    );
    expect(answer.text).toBe('C attempt 1: 李四');
  });

  it("groupCard 'private': a group message's card goes to the sender's single chat, a note to the group", async () => {
    for (const i of [...instances]) await stopInstance(i);
    const d = await startInstance('D', { groupCard: 'private' });
    await d.app.tokens.forget('union-zhangsan');
    const sent = await control<{ msgId: string; conversationId: string }>('/sandbox/bots/messages', {
      from: 'zhangsan',
      text: 'who am i',
      conversation: 'group',
    });
    const note = await until('the note in the group', async () =>
      (await replies(sent)).find((l) => l.text.includes('已私信')),
    );
    expect(note.msgtype).toBe('text');
    expect((await replies(sent)).some((l) => l.msgtype === 'actionCard')).toBe(false);
    const { conversations } = await control<{
      conversations: Array<{ id: string; kind: string; members: string[] }>;
    }>('/sandbox/bots/conversations');
    const single = conversations.find((c) => c.kind === 'single' && c.members.includes('zhangsan'));
    if (!single) throw new Error('no single chat of zhangsan');
    const card = await until('the private card', async () => {
      const { messages } = await control<{ messages: Array<Line & { via?: string }> }>(
        `/sandbox/bots/conversations/${single.id}/messages`,
      );
      return messages.filter((l) => l.msgtype === 'actionCard').at(-1);
    });
    expect(card.via).toBe('oToMessages/batchSend');
    const res = await callbackOn(d, await approve(card.buttons?.[0]?.url ?? '', 'zhangsan'));
    expect(res.status).toBe(200);
    const answer = await until('the answer in the group', async () =>
      (await replies(sent)).find((l) => l.text.includes('attempt 2')),
    );
    expect(answer.text).toBe('D attempt 2: 张三');
  });
});
