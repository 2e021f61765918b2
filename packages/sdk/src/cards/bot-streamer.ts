import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { OpenApiClient } from '../openapi/client.js';
import type { AiCards } from './ai-cards.js';
import type { CardFallback } from './card-stream.js';
import type { AiCardTarget } from './target.js';

/**
 * The conversation of a bot message, as the bots module's `reply.stream()` describes it (its
 * `CardTarget`; matched by shape, so neither module imports the other).
 */
export interface AiCardStreamerTarget {
  conversationId: string;
  conversationKind: 'single' | 'group';
  senderStaffId?: string;
  senderId: string;
  robotCode: string;
  msgId: string;
  sessionWebhook?: { url: string; expiresAt: number };
}

/** The stream `reply.stream()` hands a bot handler (the bots module's `CardStream`). */
export interface AiCardBotStream {
  readonly outTrackId: string;
  append(text: string): Promise<void>;
  finish(): Promise<void>;
  fail(err?: unknown): Promise<void>;
}

/** Options of {@link aiCardStreamer}. */
export interface AiCardStreamerOptions {
  /** Title of the markdown fallback message (default `AI 回复`). */
  fallbackTitle?: string;
  /** Replaces the built-in fallback (session webhook while valid, else the robot OpenAPIs). */
  fallback?: (target: AiCardStreamerTarget, fallback: CardFallback) => Promise<void>;
  /** Time source for the webhook's expiry (default `Date.now`; the dev server passes the sandbox clock). */
  now?: () => number;
}

/** Most bytes of a robot message's `msgParam` (HELP: 15 000 for group messages). */
const MAX_MSG_PARAM_BYTES = 15_000;
const CLIPPED = '\n\n…（内容过长，已截断 truncated）';

/** The card target of a bot message: the sender's single chat (by staffId) or the group. */
export function aiCardTargetOf(target: AiCardStreamerTarget): AiCardTarget {
  if (target.conversationKind === 'group')
    return { kind: 'group', openConversationId: target.conversationId };
  if (!target.senderStaffId)
    throw new DingTalkSkillsError(
      ErrorCode.InvalidInput,
      'a single-chat AI card needs the sender staffId (senderStaffId), which this message lacks',
    );
  return { kind: 'user', userId: target.senderStaffId };
}

/**
 * Adapts {@link AiCards} to the bots module's `CardStreamer` (`start(target) -> CardStream`), the
 * object `reply.stream()` calls: the card goes to the message's conversation, and when the card cannot
 * carry the reply the text goes out as a markdown message through the session webhook (会话Webhook)
 * while it is valid, else through the robot OpenAPIs (`oToMessages/batchSend` to the sender,
 * `groupMessages/send` to the group) with the app token.
 */
export function aiCardStreamer(
  cards: AiCards,
  openapi: OpenApiClient,
  options: AiCardStreamerOptions = {},
): {
  start(target: AiCardStreamerTarget, options?: { outTrackId?: string }): Promise<AiCardBotStream>;
} {
  const title = options.fallbackTitle ?? 'AI 回复';
  const now = options.now ?? Date.now;
  return {
    async start(target, startOptions) {
      const fallback = async (f: CardFallback) =>
        options.fallback
          ? options.fallback(target, f)
          : sendMarkdown(openapi, target, title, f.text, now, cards.robotCode);
      const stream = cards.start(aiCardTargetOf(target), {
        fallback,
        ...(startOptions?.outTrackId ? { outTrackId: startOptions.outTrackId } : {}),
      });
      return {
        outTrackId: stream.outTrackId,
        append: async (text) => stream.append(text),
        finish: async () => {
          await stream.finish();
        },
        fail: async (err) => {
          await stream.fail(err);
        },
      };
    },
  };
}

/** Sends `text` as a markdown message to the conversation (webhook while valid, else the robot APIs). */
export async function sendMarkdown(
  openapi: OpenApiClient,
  target: AiCardStreamerTarget,
  title: string,
  text: string,
  now: () => number = Date.now,
  robotCode: string = target.robotCode,
): Promise<void> {
  const body = clipMarkdown(title, text);
  const hook = target.sessionWebhook;
  if (hook && now() < hook.expiresAt) {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'markdown', markdown: body }),
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await res.json().catch(() => ({}))) as { errcode?: number };
    if (res.ok && (answer.errcode === undefined || answer.errcode === 0)) return;
    // An expired session (or any refusal) falls through to the robot APIs.
  }
  const msgParam = JSON.stringify(body);
  if (target.conversationKind === 'group') {
    await openapi.request(
      {
        method: 'POST',
        path: '/v1.0/robot/groupMessages/send',
        body: { robotCode, openConversationId: target.conversationId, msgKey: 'sampleMarkdown', msgParam },
        idempotent: false,
      },
      'app',
    );
    return;
  }
  const userId = aiCardTargetOf(target).kind === 'user' ? target.senderStaffId : undefined;
  await openapi.request(
    {
      method: 'POST',
      path: '/v1.0/robot/oToMessages/batchSend',
      body: { robotCode, userIds: [userId], msgKey: 'sampleMarkdown', msgParam },
      idempotent: false,
    },
    'app',
  );
}

/** `{title, text}` whose JSON fits the robot APIs' `msgParam` limit (the text is cut with a note). */
export function clipMarkdown(title: string, text: string): { title: string; text: string } {
  const fits = (t: string) => Buffer.byteLength(JSON.stringify({ title, text: t })) <= MAX_MSG_PARAM_BYTES;
  if (fits(text)) return { title, text };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(text.slice(0, mid) + CLIPPED)) lo = mid;
    else hi = mid - 1;
  }
  return { title, text: text.slice(0, lo) + CLIPPED };
}
