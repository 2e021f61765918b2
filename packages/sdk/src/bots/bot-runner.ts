import { randomUUID } from 'node:crypto';
import {
  AuthorizationRequiredError,
  toAuthorizationRequired,
} from '../credentials/authorization-required.js';
import type { UserTokenManager } from '../credentials/user-token-manager.js';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { OpenApiClient } from '../openapi/client.js';
import type { UserApi } from '../openapi/user-api.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { DedupStore } from '../stream/dedup-store.js';
import type { CallbackMessage } from '../stream/handlers.js';
import type { CardStreamer } from './card-streamer.js';
import type { BotConsent } from './consent.js';
import type { BotContext, BotDefinition } from './define-bot.js';
import { type BotMessage, decodeBotMessage } from './message.js';
import { type BotReply, createBotReply } from './reply.js';
import type { SenderDirectory } from './sender-directory.js';

/** How one bot message ended (metric label). */
export type BotMessageOutcome = 'ok' | 'error' | 'timeout' | 'duplicate' | 'malformed' | 'auth';

/** Told how every bot message ended (e.g. the Prometheus `Metrics`). Cheap, never throws. */
export interface BotObserver {
  botMessageFinished(outcome: BotMessageOutcome, seconds: number): void;
}

export interface BotRunnerOptions {
  bot: BotDefinition;
  openapi: OpenApiClient;
  logger: Logger;
  /** Where `msgId`s are claimed (the app's dedup store: shared across instances when it is). */
  dedup: DedupStore;
  /** Key namespace (the clientId). */
  namespace: string;
  /** robotCode for the robot APIs (default: the clientId). */
  robotCode: string;
  /** How long a handled `msgId` is remembered (default 30 minutes). */
  dedupTtlMs?: number;
  now?: () => number;
  observer?: BotObserver;
  cardStreamer?: CardStreamer;
  /** Users' tokens (for `asSender()`). */
  tokens?: UserTokenManager;
  /** staffId -> unionId (for `asSender()`). */
  senders?: SenderDirectory;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs bot messages: decode, claim the `msgId` in the dedup store (a redelivery carries a new frame
 * `messageId` but the same `msgId`), ack at once (`{"response": null}`), then run the handler in the
 * background under its deadline and abort signal; `drain()` waits for running handlers on stop.
 */
export class BotRunner {
  readonly #o: BotRunnerOptions;
  readonly #running = new Set<Running>();
  readonly #timeoutMs: number;
  #closed = false;
  #consent: BotConsent | undefined;

  constructor(options: BotRunnerOptions) {
    this.#o = options;
    this.#timeoutMs = options.bot.timeoutMs ?? 60_000;
  }

  /** Sets the consent flow (the runtime builds it with this runner's `replyFor` and `rerun`). */
  useConsent(consent: BotConsent): void {
    this.#consent = consent;
  }

  /** Replies in the conversation of `message` (session webhook, then the robot APIs). */
  replyFor(message: BotMessage, logger: Logger = this.#o.logger): BotReply {
    return createBotReply({
      message,
      openapi: this.#o.openapi,
      robotCode: message.robotCode ?? this.#o.robotCode,
      logger,
      now: this.#o.now ?? Date.now,
      ...(this.#o.cardStreamer ? { cardStreamer: this.#o.cardStreamer } : {}),
    });
  }

  /** Runs a message once more after the sender's consent (attempt 2: a second auth failure ends it). */
  rerun(message: BotMessage): void {
    if (this.#closed) {
      this.#o.logger.warn(
        { msgId: message.msgId },
        'consent arrived while stopping: the message is not re-run',
      );
      return;
    }
    this.#start(message, performance.now(), 2);
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** The CALLBACK handler of `/v1.0/im/bot/messages/get`: resolves to the ack's response (`null`). */
  async handle(msg: CallbackMessage): Promise<null> {
    const started = performance.now();
    let message: BotMessage;
    try {
      message = decodeBotMessage(msg.data, msg.messageId);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.#o.logger.warn({ messageId: msg.messageId, err: err.message }, 'malformed bot message dropped');
      this.#observe('malformed', started);
      return null;
    }
    if (this.#closed) {
      this.#o.logger.warn({ msgId: message.msgId }, 'bot message arrived while stopping: not run');
      return null;
    }
    if (!(await this.#claim(message.msgId))) {
      this.#o.logger.info(
        { msgId: message.msgId, messageId: msg.messageId },
        'redelivered bot message: already handled',
      );
      this.#observe('duplicate', started);
      return null;
    }
    this.#start(message, started, 1);
    return null;
  }

  /** Waits for running handlers; past `timeoutMs` aborts their signals and stops waiting. */
  async drain(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all([...this.#running].map((r) => r.done)).then(() => true);
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([all, late]);
    clearTimeout(timer);
    if (!finished) {
      this.#o.logger.warn({ running: this.#running.size }, 'bot handlers still running at stop: aborted');
      for (const r of this.#running) r.controller.abort(new Error('the app is stopping'));
    }
  }

  async #claim(msgId: string): Promise<boolean> {
    const key = `bot:${this.#o.namespace}:${msgId}`;
    try {
      // A bot message is answered at once and never retried, so its lease simply lasts the dedup TTL.
      const found = await this.#o.dedup.begin(key, randomUUID(), this.#o.dedupTtlMs ?? 30 * 60_000);
      return found === 'claimed';
    } catch (err) {
      this.#o.logger.warn(
        { msgId, err: toError(err).message },
        'dedup store failed; running the bot message anyway',
      );
      return true;
    }
  }

  /** The user API of an org user by staffId (the platform's id): their stored token, refreshed when needed. */
  async asStaff(staffId: string | undefined): Promise<UserApi> {
    const { tokens, senders } = this.#o;
    if (!tokens || !senders)
      throw new DingTalkSkillsError(ErrorCode.Config, 'asSender(): the runtime has no user token manager');
    if (!staffId)
      throw new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, {
        message: 'the message has no senderStaffId: the sender cannot be identified',
      });
    const unionId = await senders.unionIdOf(staffId);
    return this.#o.openapi.asUser(await tokens.require({ unionId }));
  }

  #asSender(message: BotMessage): Promise<UserApi> {
    return this.asStaff(message.sender.staffId);
  }

  async #onAuthRequired(
    message: BotMessage,
    err: AuthorizationRequiredError,
    attempt: 1 | 2,
    logger: Logger,
  ) {
    const reply = this.replyFor(message, logger);
    if (attempt === 2) {
      logger.warn({ code: err.authCode }, 'bot: still not authorized after consent; not asking again');
      await reply.text(
        '授权后仍无法完成这个请求，已停止。请联系管理员检查应用权限。/ Still not authorized after consent: stopped. Ask an admin to check the app permissions.',
      );
      return;
    }
    if (!message.sender.staffId) {
      logger.warn(
        { code: err.authCode },
        'bot: the sender must authorize, but the frame has no senderStaffId',
      );
      await reply.text(
        '无法识别你在本组织的身份，不能以你的身份操作。/ You cannot be identified in this organization: nothing can be done as you.',
      );
      return;
    }
    if (!this.#consent || !this.#o.senders) {
      logger.warn(
        { code: err.authCode },
        'bot handler needs the sender to authorize, but no consent is configured (bot.consent)',
      );
      await reply.text(
        '这个请求需要你的授权，但机器人尚未配置授权回调。/ This needs your authorization, but the bot has no consent callback configured.',
      );
      return;
    }
    const unionId = await this.#o.senders.unionIdOf(message.sender.staffId);
    const scopes = [...new Set([...(this.#o.bot.scopes ?? []), ...(err.requiredScopes ?? [])])];
    await this.#consent.ask(message, { staffId: message.sender.staffId, unionId }, scopes);
  }

  #start(message: BotMessage, started: number, attempt: 1 | 2): void {
    const controller = new AbortController();
    const logger = this.#o.logger.child({ msgId: message.msgId, conversation: message.conversation.kind });
    const ctx: BotContext = {
      message,
      signal: controller.signal,
      logger,
      appApi: this.#o.openapi,
      reply: this.replyFor(message, logger),
      asSender: () => this.#asSender(message),
      attempt,
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      logger.warn({ timeoutMs: this.#timeoutMs }, 'bot handler missed its deadline: signal aborted');
      controller.abort(new Error(`bot handler deadline (${this.#timeoutMs} ms) passed`));
    }, this.#timeoutMs);
    const running: Running = { controller, done: Promise.resolve() };
    running.done = (async () => {
      let outcome: BotMessageOutcome = 'ok';
      try {
        await this.#o.bot.onMessage(message, ctx);
      } catch (err) {
        const auth = toAuthorizationRequired(err);
        if (auth) {
          outcome = 'auth';
          await this.#onAuthRequired(message, auth, attempt, logger).catch(async (e: unknown) => {
            logger.error({ err: toError(e) }, 'bot: could not ask the sender to authorize');
            await this.replyFor(message, logger)
              .text(
                '暂时无法发起授权，请稍后再试。/ Could not start the authorization: please try again later.',
              )
              .catch(() => undefined);
          });
        } else {
          outcome = 'error';
          logger.error({ err: toError(err) }, 'bot handler failed');
        }
      } finally {
        clearTimeout(timer);
        this.#running.delete(running);
        this.#observe(timedOut ? 'timeout' : outcome, started);
      }
    })();
    this.#running.add(running);
  }

  #observe(outcome: BotMessageOutcome, started: number): void {
    try {
      this.#o.observer?.botMessageFinished(outcome, (performance.now() - started) / 1000);
    } catch {
      // observers must not break message handling
    }
  }
}
