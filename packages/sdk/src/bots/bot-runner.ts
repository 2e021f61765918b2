import { randomUUID } from 'node:crypto';
import { toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { OpenApiClient } from '../openapi/client.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { DedupStore } from '../stream/dedup-store.js';
import type { CallbackMessage } from '../stream/handlers.js';
import type { CardStreamer } from './card-streamer.js';
import type { BotContext, BotDefinition } from './define-bot.js';
import { type BotMessage, decodeBotMessage } from './message.js';
import { createBotReply } from './reply.js';

/** How one bot message ended (metric label). */
export type BotMessageOutcome = 'ok' | 'error' | 'timeout' | 'duplicate' | 'malformed';

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

  constructor(options: BotRunnerOptions) {
    this.#o = options;
    this.#timeoutMs = options.bot.timeoutMs ?? 60_000;
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
    this.#start(message, started);
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

  #start(message: BotMessage, started: number): void {
    const controller = new AbortController();
    const logger = this.#o.logger.child({ msgId: message.msgId, conversation: message.conversation.kind });
    const ctx: BotContext = {
      message,
      signal: controller.signal,
      logger,
      appApi: this.#o.openapi,
      reply: createBotReply({
        message,
        openapi: this.#o.openapi,
        robotCode: message.robotCode ?? this.#o.robotCode,
        logger,
        now: this.#o.now ?? Date.now,
        ...(this.#o.cardStreamer ? { cardStreamer: this.#o.cardStreamer } : {}),
      }),
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
        outcome = 'error';
        logger.error({ err: toError(err) }, 'bot handler failed');
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
