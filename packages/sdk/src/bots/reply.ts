import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { OpenApiClient } from '../openapi/client.js';
import type { CardStream, CardStreamer, CardStreamOptions } from './card-streamer.js';
import type { BotMessage } from './message.js';

/** Largest `msgParam` the robot APIs take (`groupMessages/send`: 15 000 bytes); applied to every reply. */
export const MAX_REPLY_BYTES = 15_000;
/** Longest title of a markdown or action card reply. */
export const MAX_TITLE_CHARS = 256;
/** Most buttons of an action card (`sampleActionCard` .. `sampleActionCard5`). */
export const MAX_ACTION_BUTTONS = 5;
/** Most @-mentions in one text reply. */
export const MAX_AT_USERS = 20;
/** Session webhook answer (errcode) for an expired or unknown session. */
export const SESSION_EXPIRED_ERRCODE = 300001;

/** A button of an action card: its title and the URL it opens. */
export interface ActionButton {
  title: string;
  url: string;
}

export interface ActionCardReply {
  title: string;
  /** Markdown body. */
  text: string;
  /** One to five buttons. */
  buttons: ActionButton[];
  /** `vertical` (default) or `horizontal` (session webhook only). */
  orientation?: 'vertical' | 'horizontal';
}

/** How a reply went out. */
export interface ReplyReceipt {
  via: 'sessionWebhook' | 'openapi';
  /** The robot API's `processQueryKey` (OpenAPI replies). */
  processQueryKey?: string;
}

/** Replies in the conversation a message came from. */
export interface BotReply {
  /** A text message; `at` @-mentions these staff ids (session webhook only; at most 20). */
  text(content: string, options?: { at?: string[] }): Promise<ReplyReceipt>;
  markdown(title: string, text: string): Promise<ReplyReceipt>;
  actionCard(card: ActionCardReply): Promise<ReplyReceipt>;
  /**
   * A streaming AI card (AI卡片): `append(text)`, then `finish()` or `fail(err)`. The runtime builds
   * the card streamer by default (`AiCards`); with `bot.cards: false` and no `cardStreamer` it throws `ERR_CONFIG`.
   */
  stream(options?: CardStreamOptions): Promise<CardStream>;
}

/** What a reply needs. */
export interface ReplyDeps {
  message: BotMessage;
  openapi: OpenApiClient;
  robotCode: string;
  logger: Logger;
  now: () => number;
  fetch?: typeof fetch;
  cardStreamer?: CardStreamer;
  /** Deadline of one session webhook POST (default 10 s). */
  webhookTimeoutMs?: number;
}

/** A reply in both wire forms: the session webhook's `msgtype` body and the robot API's msgKey/msgParam. */
interface Outgoing {
  webhook: Record<string, unknown>;
  msgKey: string;
  msgParam: Record<string, string>;
}

function limitError(message: string): DingTalkSkillsError {
  return new DingTalkSkillsError(ErrorCode.InvalidInput, `reply: ${message}`);
}

function checkText(name: string, value: string, maxChars?: number): void {
  if (typeof value !== 'string' || value.trim() === '')
    throw limitError(`${name} must be a non-empty string`);
  if (maxChars !== undefined && value.length > maxChars)
    throw limitError(`${name} is ${value.length} characters; at most ${maxChars}`);
}

function checkSize(out: Outgoing): Outgoing {
  const bytes = Buffer.byteLength(JSON.stringify(out.msgParam));
  if (bytes > MAX_REPLY_BYTES)
    throw limitError(`the message is ${bytes} bytes; DingTalk takes at most ${MAX_REPLY_BYTES} (split it)`);
  return out;
}

/** Builds a text reply (exported for tests). */
export function textReply(content: string, at: string[] = []): Outgoing {
  checkText('text', content);
  if (at.length > MAX_AT_USERS) throw limitError(`at most ${MAX_AT_USERS} @-mentions (got ${at.length})`);
  return checkSize({
    webhook: {
      msgtype: 'text',
      text: { content },
      ...(at.length > 0 ? { at: { atUserIds: at, isAtAll: false } } : {}),
    },
    msgKey: 'sampleText',
    msgParam: { content },
  });
}

export function markdownReply(title: string, text: string): Outgoing {
  checkText('title', title, MAX_TITLE_CHARS);
  checkText('text', text);
  return checkSize({
    webhook: { msgtype: 'markdown', markdown: { title, text } },
    msgKey: 'sampleMarkdown',
    msgParam: { title, text },
  });
}

export function actionCardReply(card: ActionCardReply): Outgoing {
  checkText('title', card.title, MAX_TITLE_CHARS);
  checkText('text', card.text);
  const buttons = card.buttons ?? [];
  if (buttons.length < 1 || buttons.length > MAX_ACTION_BUTTONS)
    throw limitError(`an action card needs 1 to ${MAX_ACTION_BUTTONS} buttons (got ${buttons.length})`);
  for (const [i, b] of buttons.entries()) {
    checkText(`buttons[${i}].title`, b.title, MAX_TITLE_CHARS);
    checkText(`buttons[${i}].url`, b.url, 2_048);
  }
  const [first] = buttons as [ActionButton];
  const single = buttons.length === 1;
  const msgParam: Record<string, string> = { title: card.title, text: card.text };
  if (single) Object.assign(msgParam, { singleTitle: first.title, singleURL: first.url });
  else
    buttons.forEach((b, i) => {
      msgParam[`actionTitle${i + 1}`] = b.title;
      msgParam[`actionURL${i + 1}`] = b.url;
    });
  return checkSize({
    webhook: {
      msgtype: 'actionCard',
      actionCard: single
        ? { title: card.title, text: card.text, singleTitle: first.title, singleURL: first.url }
        : {
            title: card.title,
            text: card.text,
            btnOrientation: card.orientation === 'horizontal' ? '1' : '0',
            btns: buttons.map((b) => ({ title: b.title, actionURL: b.url })),
          },
    },
    msgKey: single ? 'sampleActionCard' : `sampleActionCard${buttons.length}`,
    msgParam,
  });
}

/**
 * Replies through the session webhook (会话Webhook) while it is valid, else (expired by the clock,
 * or the webhook answers that the session expired) through the robot OpenAPIs with the app token:
 * `oToMessages/batchSend` to the sender in a single chat, `groupMessages/send` in a group.
 */
export function createBotReply(deps: ReplyDeps): BotReply {
  const doFetch = deps.fetch ?? fetch;
  const { message } = deps;

  async function viaWebhook(out: Outgoing): Promise<ReplyReceipt | undefined> {
    const hook = message.sessionWebhook;
    if (!hook || deps.now() >= hook.expiresAt) return undefined;
    const res = await doFetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(out.webhook),
      redirect: 'error',
      signal: AbortSignal.timeout(deps.webhookTimeoutMs ?? 10_000),
    });
    const text = await res.text();
    let answer: { errcode?: number; errmsg?: string } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // not JSON: judged by the status below
    }
    if (answer.errcode === SESSION_EXPIRED_ERRCODE || res.status === 404) return undefined;
    if (!res.ok || (answer.errcode !== undefined && answer.errcode !== 0))
      throw new DingTalkSkillsError(
        ErrorCode.OpenApi,
        `session webhook refused the reply: HTTP ${res.status} errcode ${answer.errcode ?? '-'} ${answer.errmsg ?? ''}`.trim(),
      );
    return { via: 'sessionWebhook' };
  }

  async function viaOpenApi(out: Outgoing): Promise<ReplyReceipt> {
    const msgParam = JSON.stringify(out.msgParam);
    if (message.conversation.kind === 'group') {
      const r = await deps.openapi.request<{ processQueryKey?: string }>(
        {
          method: 'POST',
          path: '/v1.0/robot/groupMessages/send',
          body: {
            robotCode: deps.robotCode,
            openConversationId: message.conversation.id,
            msgKey: out.msgKey,
            msgParam,
          },
          idempotent: false,
        },
        'app',
      );
      return { via: 'openapi', ...(r?.processQueryKey ? { processQueryKey: r.processQueryKey } : {}) };
    }
    const staffId = message.sender.staffId;
    if (!staffId)
      throw new DingTalkSkillsError(
        ErrorCode.OpenApi,
        'the session webhook expired and the message has no senderStaffId to reply to',
      );
    const r = await deps.openapi.request<{ processQueryKey?: string; invalidStaffIdList?: string[] }>(
      {
        method: 'POST',
        path: '/v1.0/robot/oToMessages/batchSend',
        body: { robotCode: deps.robotCode, userIds: [staffId], msgKey: out.msgKey, msgParam },
        idempotent: false,
      },
      'app',
    );
    if (r?.invalidStaffIdList?.includes(staffId))
      throw new DingTalkSkillsError(ErrorCode.OpenApi, 'batchSend: the sender is not a valid recipient');
    return { via: 'openapi', ...(r?.processQueryKey ? { processQueryKey: r.processQueryKey } : {}) };
  }

  async function send(out: Outgoing): Promise<ReplyReceipt> {
    const receipt = await viaWebhook(out);
    if (receipt) return receipt;
    deps.logger.debug({ msgId: message.msgId }, 'session webhook expired: replying through the robot API');
    return viaOpenApi(out);
  }

  return {
    text: async (content, options) => send(textReply(content, options?.at)),
    markdown: async (title, text) => send(markdownReply(title, text)),
    actionCard: async (card) => send(actionCardReply(card)),
    stream: async (options) => {
      if (!deps.cardStreamer)
        throw new DingTalkSkillsError(
          ErrorCode.Config,
          'reply.stream(): no card streamer is configured (pass cardStreamer in the runtime config)',
        );
      return deps.cardStreamer.start(
        {
          conversationId: message.conversation.id,
          conversationKind: message.conversation.kind,
          ...(message.sender.staffId ? { senderStaffId: message.sender.staffId } : {}),
          senderId: message.sender.id,
          robotCode: deps.robotCode,
          msgId: message.msgId,
          ...(message.sessionWebhook ? { sessionWebhook: message.sessionWebhook } : {}),
        },
        options,
      );
    },
  };
}
