import type { Logger } from '../logging/logger.js';
import type { OpenApiClient } from '../openapi/client.js';
import type { UserApi } from '../openapi/user-api.js';
import type { CardActionHandler } from './card-callback.js';
import type { BotMessage } from './message.js';
import type { BotReply } from './reply.js';

/** What a bot handler receives besides the message. */
export interface BotContext {
  readonly message: BotMessage;
  /** Replies in the message's conversation (session webhook, robot API fallback, streaming card). */
  readonly reply: BotReply;
  /** Aborted when the handler's deadline passes or the app stops; pass it on to long work. */
  readonly signal: AbortSignal;
  /** A child logger bound to the msgId and conversation; secrets are redacted. */
  readonly logger: Logger;
  /** DingTalk's OpenAPI as the app (企业凭证). */
  readonly appApi: OpenApiClient;
  /**
   * DingTalk's OpenAPI as the person who sent the message (用户代理凭证), found from the platform's
   * `senderStaffId` only. Their stored token, refreshed when needed (same store, cipher and lock as
   * skills). When they have none or it lacks a scope, the call (or a later API call) throws
   * `ERR_AUTHORIZATION_REQUIRED`; let it propagate: the framework replies with the authorization card
   * and runs the message once more after consent.
   */
  asSender(): Promise<UserApi>;
  /** 1 for the message as it arrived, 2 for the run after the sender's consent. */
  readonly attempt: 1 | 2;
}

/** A chat bot (机器人): the handler of topic `/v1.0/im/bot/messages/get`. */
export interface BotDefinition {
  /**
   * Runs once per message (`msgId`): the frame is acked before it runs, a redelivery of the same
   * message is not run again. A throw is logged (and counted); nothing is sent to the chat, except for
   * `ERR_AUTHORIZATION_REQUIRED` (from `asSender()` or a user API call): then the authorization card.
   */
  onMessage(message: BotMessage, ctx: BotContext): Promise<void> | void;
  /** Delegated scopes `asSender()` needs, asked for on the authorization card (e.g. `['Calendar.Event.Read']`). */
  scopes?: string[];
  /** Deadline of `onMessage` (default 60 000 ms); past it `ctx.signal` is aborted. */
  timeoutMs?: number;
  /**
   * Card callbacks (`/v1.0/card/instances/callback`) by `outTrackId` prefix: the handler of the
   * longest matching prefix runs; what it returns updates the card (in the ack).
   */
  cardActions?: Record<string, CardActionHandler>;
}

/** Declares a bot (identity function with checking of the obvious). */
export function defineBot(bot: BotDefinition): BotDefinition {
  if (typeof bot?.onMessage !== 'function') throw new TypeError('defineBot: onMessage must be a function');
  if (bot.timeoutMs !== undefined && (!Number.isInteger(bot.timeoutMs) || bot.timeoutMs < 1))
    throw new TypeError('defineBot: timeoutMs must be a positive integer');
  for (const [prefix, handler] of Object.entries(bot.cardActions ?? {}))
    if (typeof handler !== 'function')
      throw new TypeError(`defineBot: cardActions[${prefix}] must be a function`);
  return bot;
}
