import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '@dingtalk-skills/sdk';
import { Topic } from '@dingtalk-skills/sdk/protocol';
import type { SessionReply } from '../assistant/session-webhook/reply.js';
import type { SessionWebhook, SessionWebhooks } from '../assistant/session-webhook/store.js';
import type { CallbackResult } from '../gateway/callbacks.js';

/** The seeded group chat with every seed user and the bot. */
export const SANDBOX_GROUP_ID = 'cidGroupSandbox0001';
export const SANDBOX_GROUP_TITLE = '沙箱测试群 Sandbox group';
/** Prefix of every bot conversation id (so session webhook replies can be routed here). */
export const BOT_CONVERSATION_PREFIX = 'cid';

/** One line of a bot conversation: what a user sent, or what the bot answered (and how). */
export interface ChatEntry {
  seq: number;
  at: number;
  from: 'user' | 'bot';
  /** The user who sent it (user lines). */
  userId?: string;
  /** The message (user lines) or the message answered (session webhook replies). */
  msgId?: string;
  /** How a bot line arrived. */
  via?: 'sessionWebhook' | 'oToMessages/batchSend' | 'groupMessages/send';
  msgtype: string;
  title?: string;
  text: string;
  buttons?: Array<{ title: string; url: string }>;
  atUserIds?: string[];
}

export interface BotConversation {
  id: string;
  clientId: string;
  kind: 'single' | 'group';
  title?: string;
  members: string[];
  entries: ChatEntry[];
}

export interface ChatUser {
  userId: string;
  name: string;
  corpId: string;
}

/** What the chats need from the sandbox. */
export interface BotChatsDeps {
  clock: { now(): number };
  logger: Logger;
  webhooks: SessionWebhooks;
  users(): ChatUser[];
  invokeCallback(input: {
    clientId: string;
    topic: string;
    data: unknown;
    redelivery?: number[];
  }): Promise<CallbackResult>;
  /** Lines kept per conversation (default 500; oldest dropped). */
  maxEntries?: number;
  /** Messages remembered for redelivery (default 1 000). */
  maxMessages?: number;
}

export interface SendInput {
  clientId: string;
  conversation: 'single' | 'group';
  from: string;
  text?: string;
  msgtype?: string;
  content?: Record<string, unknown>;
}

export interface SendResult {
  msgId: string;
  conversationId: string;
  sessionWebhook: string;
  sessionWebhookExpiredTime: number;
  delivery: CallbackResult;
}

/** An encrypted-looking, stable id for a staff id (like DingTalk's `$:LWCP_v1:$…`). */
function opaqueId(kind: string, value: string): string {
  return `$:LWCP_v1:$${createHash('sha256').update(`${kind}:${value}`).digest('base64url').slice(0, 24)}`;
}

/**
 * Bot conversations (机器人会话): a single chat per user and app, and one group with every seed user.
 * `send` pushes the bot message frame over Stream (topic `/v1.0/im/bot/messages/get`) with a fresh
 * session webhook; replies (session webhook, robot APIs) are recorded per conversation, bounded.
 */
export class BotChats {
  readonly #deps: BotChatsDeps;
  readonly #conversations = new Map<string, BotConversation>();
  readonly #messages = new Map<string, { clientId: string; data: Record<string, unknown> }>();
  #seq = 0;

  constructor(deps: BotChatsDeps) {
    this.#deps = deps;
  }

  /** The single chat of `userId` with the app's bot, or the group (made on first use). */
  conversationOf(clientId: string, kind: 'single' | 'group', userId?: string): BotConversation {
    const id =
      kind === 'group'
        ? `${SANDBOX_GROUP_ID}${clientId === 'dingsandboxapp001' ? '' : `.${clientId}`}`
        : `cidSingle.${clientId}.${userId}`;
    let conv = this.#conversations.get(id);
    if (!conv) {
      conv = {
        id,
        clientId,
        kind,
        ...(kind === 'group' ? { title: SANDBOX_GROUP_TITLE } : {}),
        members: kind === 'group' ? this.#deps.users().map((u) => u.userId) : [userId ?? ''],
        entries: [],
      };
      this.#conversations.set(id, conv);
    }
    return conv;
  }

  get(id: string): BotConversation | undefined {
    return this.#conversations.get(id);
  }

  list(): BotConversation[] {
    return [...this.#conversations.values()];
  }

  /** Sends a message from `from` to the bot; resolves with what the app's connection answered. */
  async send(input: SendInput): Promise<SendResult> {
    const user = this.#deps.users().find((u) => u.userId === input.from);
    if (!user) throw new Error(`unknown user ${input.from}`);
    const conv = this.conversationOf(input.clientId, input.conversation, user.userId);
    const msgId = `msg${randomBytes(12).toString('base64url')}`;
    const hook = this.#deps.webhooks.issue({
      conversationId: conv.id,
      invocationId: msgId,
      clientId: input.clientId,
      userId: user.userId,
    });
    const msgtype = input.msgtype ?? 'text';
    const text = input.text ?? '';
    const group = conv.kind === 'group';
    const chatbotUserId = opaqueId('bot', input.clientId);
    const data: Record<string, unknown> = {
      conversationId: conv.id,
      conversationType: group ? '2' : '1',
      ...(group ? { conversationTitle: conv.title } : {}),
      senderId: opaqueId('user', user.userId),
      senderStaffId: user.userId,
      senderNick: user.name,
      senderCorpId: user.corpId,
      isAdmin: false,
      chatbotUserId,
      chatbotCorpId: user.corpId,
      robotCode: input.clientId,
      msgId,
      msgtype,
      ...(msgtype === 'text' ? { text: { content: group ? ` ${text}` : text } } : {}),
      ...(input.content ? { content: input.content } : {}),
      atUsers: group ? [{ dingtalkId: chatbotUserId }] : [],
      isInAtList: group,
      sessionWebhook: hook.url,
      sessionWebhookExpiredTime: hook.expiresAt,
      createAt: hook.issuedAt,
    };
    this.#remember(msgId, input.clientId, data);
    this.#add(conv, { from: 'user', userId: user.userId, msgId, msgtype, text });
    const delivery = await this.#deps.invokeCallback({
      clientId: input.clientId,
      topic: Topic.BotMessage,
      data,
      redelivery: [],
    });
    return {
      msgId,
      conversationId: conv.id,
      sessionWebhook: hook.url,
      sessionWebhookExpiredTime: hook.expiresAt,
      delivery,
    };
  }

  /** Pushes a message again, as DingTalk does: the same data (same msgId), a new frame messageId. */
  async redeliver(msgId: string): Promise<CallbackResult | undefined> {
    const sent = this.#messages.get(msgId);
    if (!sent) return undefined;
    return this.#deps.invokeCallback({
      clientId: sent.clientId,
      topic: Topic.BotMessage,
      data: sent.data,
      redelivery: [],
    });
  }

  /** Pushes another CALLBACK of the bot (e.g. a card button press) and resolves with its answer. */
  pushCallback(clientId: string, topic: string, data: unknown): Promise<CallbackResult> {
    return this.#deps.invokeCallback({ clientId, topic, data, redelivery: [] });
  }

  /** True for a session webhook this module issued (its replies belong here). */
  owns(webhook: SessionWebhook): boolean {
    return this.#conversations.has(webhook.conversationId);
  }

  /** Records a session webhook reply. */
  recordWebhookReply(webhook: SessionWebhook, reply: SessionReply): void {
    const conv = this.#conversations.get(webhook.conversationId);
    if (!conv) return;
    this.#add(conv, {
      from: 'bot',
      via: 'sessionWebhook',
      msgId: webhook.invocationId,
      msgtype: reply.msgtype,
      text: reply.text,
      ...(reply.title !== undefined ? { title: reply.title } : {}),
      ...(reply.buttons?.length ? { buttons: reply.buttons } : {}),
      ...(reply.atUserIds?.length ? { atUserIds: reply.atUserIds } : {}),
    });
  }

  /** Records a robot API message. */
  recordRobotMessage(
    conv: BotConversation,
    via: 'oToMessages/batchSend' | 'groupMessages/send',
    entry: Pick<ChatEntry, 'msgtype' | 'text' | 'title' | 'buttons'>,
  ): void {
    this.#add(conv, { from: 'bot', via, ...entry });
  }

  clear(): void {
    this.#conversations.clear();
    this.#messages.clear();
  }

  #remember(msgId: string, clientId: string, data: Record<string, unknown>): void {
    this.#messages.set(msgId, { clientId, data });
    const max = this.#deps.maxMessages ?? 1_000;
    while (this.#messages.size > max) {
      const oldest = this.#messages.keys().next().value;
      if (oldest === undefined) break;
      this.#messages.delete(oldest);
    }
  }

  #add(conv: BotConversation, entry: Omit<ChatEntry, 'seq' | 'at'>): void {
    conv.entries.push({ seq: ++this.#seq, at: this.#deps.clock.now(), ...entry });
    const max = this.#deps.maxEntries ?? 500;
    if (conv.entries.length > max) conv.entries.splice(0, conv.entries.length - max);
  }
}
