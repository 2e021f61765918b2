import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { OpenApiClient } from '../openapi/client.js';
import type { StateStore } from '../state/state-store.js';
import { CardApi, DEFAULT_AI_CARD_TEMPLATE_ID } from './card-api.js';
import { AiCardStream, type CardFallbackHandler, type CardResult } from './card-stream.js';
import { CardPacer, type CardPacerStats } from './pacer.js';
import { type AiCardTarget, checkTarget } from './target.js';

/** Options of {@link AiCards}. Every number has a documented default (docs/cards.md). */
export interface AiCardsOptions {
  /** The app's OpenAPI client (its app token authenticates the card calls). */
  openapi: OpenApiClient;
  /** The bot's robotCode (default: the client's clientId, as for enterprise-internal apps). */
  robotCode?: string;
  /** Shared state (SQLite/Redis): the card QPS budget and QPS pauses are shared by every instance. */
  store?: StateStore;
  /** Card template (default DingTalk's public AI card template). */
  templateId?: string;
  /** The template variable the text streams into (default `msgContent`). */
  contentKey?: string;
  /** `two-step` (create + deliver, default) or `one-shot` (createAndDeliver). */
  deliverMode?: 'two-step' | 'one-shot';
  /** Minimum time between two calls of one card (default 800 ms, OC's and CH's interval). */
  intervalMs?: number;
  /** Card calls per window for the whole app, all cards and card APIs (default 20). */
  qps?: number;
  /** The pacer's window (default 1100 ms: one second plus 10% for network jitter). */
  windowMs?: number;
  /** First pause of all card calls after a QPS 403 (default 1000 ms; doubles per 403 in a row). */
  backoffMs?: number;
  /** Longest pause (default 8000 ms). */
  maxBackoffMs?: number;
  /** How long starting and finishing a card may keep retrying before the fallback (default 60 s). */
  finishTimeoutMs?: number;
  /** Watchdog: a card with no append for this long is failed (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Watchdog: a card open this long is failed (default 30 minutes). */
  maxDurationMs?: number;
  /** How often the watchdog looks (default 5 s, or a quarter of the idle timeout when shorter). */
  watchdogIntervalMs?: number;
  /** Longest text shown in the card (default 20 000 characters, CH's cap); the fallback gets it all. */
  maxChars?: number;
  /** Appended to the text of a failed reply (never the error itself). */
  failureNote?: string;
  /** Sends the reply as a markdown message when the card cannot carry it (per stream in `start`). */
  fallback?: CardFallbackHandler;
  logger?: Logger;
}

/** Options of one {@link AiCards.start}. */
export interface CardStartOptions {
  /** The fallback of this reply (e.g. the message's `reply.markdown`), overriding the app-wide one. */
  fallback?: CardFallbackHandler;
  /** The handler's abort signal: when it aborts (deadline, shutdown) an open card is failed. */
  signal?: AbortSignal;
  /** The card instance id (default a random UUID); at most 128 characters of `[\w.:-]`. */
  outTrackId?: string;
}

const ms = z.number().int().positive();
const settingsSchema = z.object({
  robotCode: z.string().min(1).max(128).optional(),
  templateId: z.string().min(1).max(256).default(DEFAULT_AI_CARD_TEMPLATE_ID),
  contentKey: z.string().min(1).max(64).default('msgContent'),
  deliverMode: z.enum(['two-step', 'one-shot']).default('two-step'),
  intervalMs: z.number().int().min(0).default(800),
  qps: z.number().int().min(1).max(1000).default(20),
  windowMs: ms.default(1100),
  backoffMs: ms.default(1000),
  maxBackoffMs: ms.default(8000),
  finishTimeoutMs: ms.default(60_000),
  idleTimeoutMs: ms.default(5 * 60_000),
  maxDurationMs: ms.default(30 * 60_000),
  watchdogIntervalMs: ms.optional(),
  maxChars: z.number().int().min(100).max(100_000).default(20_000),
  failureNote: z.string().max(500).default('\n\n> ⚠️ 回复中断 (the reply was interrupted)'),
});

const OUT_TRACK_ID = /^[\w.:-]{1,128}$/;

/** Counters of an {@link AiCards}. */
export interface AiCardsStats extends CardPacerStats {
  open: number;
  finished: number;
  failed: number;
  fallbacks: number;
  lost: number;
  watchdogFailures: number;
}

/**
 * Streaming AI card replies (AI卡片, 流式更新) for a bot. `start(target)` creates and delivers an AI
 * card and returns a {@link AiCardStream}: `append(text)` as the answer grows, then `finish()` or
 * `fail(err)`. All cards of the app share one {@link CardPacer} (DingTalk's card QPS limit, shared
 * across instances through `store`), and a watchdog fails cards whose handler stalled or died.
 */
export class AiCards {
  readonly pacer: CardPacer;
  /** The bot's robotCode the cards are delivered with. */
  readonly robotCode: string;
  readonly #api: CardApi;
  readonly #s: z.output<typeof settingsSchema>;
  readonly #fallback: CardFallbackHandler | undefined;
  readonly #logger: Logger;
  readonly #open = new Set<AiCardStream>();
  readonly #watchdog: NodeJS.Timeout;
  readonly #counts = { finished: 0, failed: 0, fallbacks: 0, lost: 0, watchdogFailures: 0 };
  #closed = false;

  constructor(options: AiCardsOptions) {
    if (typeof options?.openapi?.request !== 'function')
      throw new DingTalkSkillsError(ErrorCode.Config, 'AiCards: openapi must be an OpenApiClient');
    const { openapi, store, fallback, logger, ...rest } = options;
    const parsed = settingsSchema.safeParse(rest);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`);
      throw new DingTalkSkillsError(ErrorCode.Config, `invalid AiCards options: ${problems.join('; ')}`);
    }
    if (fallback !== undefined && typeof fallback !== 'function')
      throw new DingTalkSkillsError(ErrorCode.Config, 'AiCards: fallback must be a function');
    this.#s = parsed.data;
    this.#fallback = fallback;
    this.#logger = (logger ?? openapi.logger).child({ component: 'ai-cards' });
    this.robotCode = this.#s.robotCode ?? openapi.clientId;
    this.#api = new CardApi(openapi, {
      robotCode: this.robotCode,
      templateId: this.#s.templateId,
      contentKey: this.#s.contentKey,
      deliverMode: this.#s.deliverMode,
    });
    this.pacer = new CardPacer({
      clientId: openapi.clientId,
      logger: this.#logger,
      store,
      qps: this.#s.qps,
      windowMs: this.#s.windowMs,
      backoffMs: this.#s.backoffMs,
      maxBackoffMs: this.#s.maxBackoffMs,
      maxWaitMs: Math.max(60_000, this.#s.finishTimeoutMs),
    });
    const every = this.#s.watchdogIntervalMs ?? Math.min(5000, Math.ceil(this.#s.idleTimeoutMs / 4));
    this.#watchdog = setInterval(() => this.#sweep(), every);
    this.#watchdog.unref();
  }

  /**
   * Creates and delivers an AI card to `target` (in the background: `append` can be called at once)
   * and returns its stream. The card shows "processing" until the first text arrives.
   */
  start(target: AiCardTarget, options: CardStartOptions = {}): AiCardStream {
    if (this.#closed) throw new DingTalkSkillsError(ErrorCode.Stopped, 'AiCards is closed');
    checkTarget(target);
    const outTrackId = options.outTrackId ?? randomUUID();
    if (!OUT_TRACK_ID.test(outTrackId))
      throw new DingTalkSkillsError(
        ErrorCode.InvalidInput,
        'outTrackId: 1-128 characters of [A-Za-z0-9_.:-]',
      );
    const stream = new AiCardStream({
      outTrackId,
      target,
      api: this.#api,
      pacer: this.pacer,
      settings: {
        intervalMs: this.#s.intervalMs,
        finishTimeoutMs: this.#s.finishTimeoutMs,
        maxChars: this.#s.maxChars,
        failureNote: this.#s.failureNote,
        maxFrameFailures: 3,
      },
      fallback: options.fallback ?? this.#fallback,
      logger: this.#logger,
    });
    this.#open.add(stream);
    const signal = options.signal;
    const onAbort = () => {
      if (stream.closed) return;
      this.#counts.watchdogFailures += 1;
      void stream.fail(new DingTalkSkillsError(ErrorCode.HandlerTimeout, 'the handler was aborted'));
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    void stream.done.then((result) => {
      this.#open.delete(stream);
      signal?.removeEventListener('abort', onAbort);
      this.#count(result);
    });
    return stream;
  }

  stats(): AiCardsStats {
    return { ...this.pacer.stats(), open: this.#open.size, ...this.#counts };
  }

  /**
   * Stops taking cards and fails the open ones (their handlers are gone with the process), waiting
   * for them to close or fall back. Call on shutdown, before closing the OpenAPI client.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    const open = [...this.#open];
    for (const stream of open)
      if (!stream.closed) void stream.fail(new DingTalkSkillsError(ErrorCode.Stopped, 'the app is stopping'));
    await Promise.all(open.map((s) => s.done));
  }

  /** The watchdog: fails open cards whose handler went quiet or ran too long. */
  #sweep(): void {
    const now = Date.now();
    for (const stream of this.#open) {
      if (stream.closed) continue;
      const idle = now - stream.lastActivity > this.#s.idleTimeoutMs;
      const tooLong = now - stream.startedAt > this.#s.maxDurationMs;
      if (!idle && !tooLong) continue;
      this.#counts.watchdogFailures += 1;
      this.#logger.warn(
        { outTrackId: stream.outTrackId, idle, tooLong },
        'AI card watchdog: the reply stalled, marking the card failed',
      );
      void stream.fail(
        new DingTalkSkillsError(
          ErrorCode.HandlerTimeout,
          idle ? 'no text for too long' : 'the reply ran too long',
        ),
      );
    }
  }

  #count(result: CardResult): void {
    if (result.outcome === 'fallback') this.#counts.fallbacks += 1;
    if (result.outcome === 'lost') this.#counts.lost += 1;
    if (result.status === 'finished') this.#counts.finished += 1;
    else this.#counts.failed += 1;
  }
}
