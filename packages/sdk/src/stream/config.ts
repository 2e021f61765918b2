import { z } from 'zod';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { LogBudget } from '../logging/log-budget.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { MAX_FRAME_BYTES } from '../protocol/topics.js';
import { trimTrailingSlashes } from '../protocol/url.js';
import { USER_AGENT } from '../version.js';
import { type DedupStore, MemoryDedupStore } from './dedup-store.js';
import { defaultLocalIp } from './local-ip.js';
import type { StreamObserver } from './observer.js';

/** A `fetch` for `connections/open`, when given (default: `node:http`/`node:https`). */
export type FetchLike = typeof globalThis.fetch;

/** Backoff between reconnect attempts of one slot. */
export interface StreamReconnectOptions {
  /** Base delay of the first retry (default 100 ms: the first retry is fast). */
  initialDelayMs?: number;
  /** Cap on any delay (default 30 000 ms). */
  maxDelayMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
  /**
   * `equal` (default): half the computed delay plus a random half, so a delay is never below half
   * the base (no storm even with bad luck). `full`: anywhere between 0 and the computed delay.
   */
  jitter?: 'equal' | 'full';
  /**
   * A connection that stayed up this long resets the attempt counter (default 2 000 ms): a connection
   * that worked for a while and then dropped is reconnected quickly; only connections dying younger
   * than this make the delay grow.
   */
  resetAfterMs?: number;
}

/** WebSocket liveness watchdog; on by default. */
export interface StreamKeepaliveOptions {
  /** `false` turns the watchdog off (not recommended). Default true. */
  enabled?: boolean;
  /** Idle time without any inbound traffic before the client sends a ws ping (default 20 000 ms). */
  intervalMs?: number;
  /** How long to wait for the pong before terminating the socket and reconnecting (default 5 000 ms). */
  timeoutMs?: number;
}

/** Bounds on the WebSocket send buffer (acks and ping answers the gateway has not read yet). */
export interface StreamSendBufferOptions {
  /**
   * Most bytes waiting to be sent on one connection (default 8 MiB). An ack that would go past it means
   * the gateway is not reading: the connection is terminated and reopened (its unsent acks are lost,
   * so those messages are redelivered), instead of buffering without bound.
   */
  maxBytes?: number;
  /**
   * A send buffer that has not drained at all for this long (default 15 000 ms) means the gateway
   * stopped reading (while it may still send): the connection is terminated and reopened.
   */
  stallTimeoutMs?: number;
}

/** Bounds of the default in-memory EVENT dedup. */
export interface StreamDedupOptions {
  /** How long a handled event id is remembered (default 10 min). */
  ttlMs?: number;
  /** Most ids remembered by the default in-memory store (default 10 000). */
  maxEntries?: number;
  /**
   * Lease protocol (stores with `begin`/`complete`, e.g. the default and the state stores): an event is
   * held "in progress" for the handler deadline plus this margin (default 5 000 ms). A redelivery during
   * the lease is acked LATER; after it (the holder died), the next redelivery runs the handler.
   */
  leaseMarginMs?: number;
  /**
   * Length of one EVENT lease when the store can renew leases (`renew`: the default and the state
   * stores): default 30 000 ms, renewed every third of it while the handler runs, never past the handler
   * deadline plus `leaseMarginMs`. An instance that dies leaves claims that run out within this, so the
   * platform's next redelivery runs them elsewhere. Without `renew` a lease is the handler deadline plus
   * `leaseMarginMs`.
   */
  leaseMs?: number;
  /**
   * How long the platform keeps redelivering an unacked EVENT (default 210 000 ms: the sandbox's default
   * schedule, 10 s ack timeout then 10/30/60/120 s; DingTalk does not publish its own). The client warns
   * at start when a dead instance's lease would outlast it: those events would never run.
   */
  redeliveryHorizonMs?: number;
}

/** Configuration of a {@link StreamClient}. Only `clientId` and `clientSecret` are required. */
export interface StreamClientConfig {
  /** The app's AppKey (Client ID). */
  clientId: string;
  /** The app's AppSecret (Client Secret). Never logged. */
  clientSecret: string;
  /** OpenAPI base URL (default `https://api.dingtalk.com`; overseas `https://api.dingtalk.io`). */
  apiBase?: string;
  /** Size of the connection pool (default 1). DingTalk sends each message to one connection at random. */
  connections?: number;
  /**
   * Most messages answered concurrently (default 64). When reached, the client stops reading from its
   * sockets (TCP backpressure) instead of buffering.
   */
  maxInFlight?: number;
  /** Deadline per handler (default 25 000 ms): an EVENT is then acked LATER, a CALLBACK answered 500. */
  handlerTimeoutMs?: number;
  keepalive?: StreamKeepaliveOptions;
  sendBuffer?: StreamSendBufferOptions;
  reconnect?: StreamReconnectOptions;
  dedup?: StreamDedupOptions;
  /** Where EVENT ids are claimed (default an in-memory bounded TTL store, one per client). */
  dedupStore?: DedupStore;
  /** Told the outcome and latency of every message (e.g. the Prometheus `Metrics`). */
  observer?: StreamObserver;
  /** Default: `createLogger({ secrets: [clientSecret] })`. */
  logger?: Logger;
  /** Sent in `connections/open` (default: the first non-internal IPv4, else 127.0.0.1). */
  localIp?: string;
  /** Sent in `connections/open` (default `dingtalk-skills-node/<version>`). */
  ua?: string;
  /**
   * A fetch for `connections/open` (a proxy, a recording test). Default: `node:http`/`node:https`,
   * which spares a Stream-only process the ~10 MB Node's built-in fetch loads on first use.
   */
  fetch?: FetchLike;
  /** Bound on `connections/open` and on the WebSocket handshake (default 10 000 ms). */
  openTimeoutMs?: number;
  /** How long `stop()` lets in-flight handlers finish (default 10 000 ms). */
  stopTimeoutMs?: number;
  /** Largest frame accepted (default 256 KiB); larger frames are logged and dropped. */
  maxFrameBytes?: number;
  /**
   * Rate limit of the "malformed frame" warnings (default 20 at once, then 1 a second). Every malformed
   * frame is still answered; the next warning let through carries `suppressed`, the count left out.
   */
  malformedFrameLog?: { burst?: number; perSecond?: number };
}

/** The configuration with every default filled in. */
export interface ResolvedStreamConfig {
  clientId: string;
  clientSecret: string;
  apiBase: string;
  connections: number;
  maxInFlight: number;
  handlerTimeoutMs: number;
  keepalive: Required<StreamKeepaliveOptions>;
  sendBuffer: Required<StreamSendBufferOptions>;
  reconnect: Required<StreamReconnectOptions>;
  dedup: Required<StreamDedupOptions>;
  dedupStore: DedupStore;
  observer: StreamObserver | undefined;
  logger: Logger;
  localIp: string;
  ua: string;
  fetch: FetchLike | undefined;
  openTimeoutMs: number;
  stopTimeoutMs: number;
  maxFrameBytes: number;
  malformedFrameLog: { burst: number; perSecond: number };
}

const ms = (max: number) => z.number().int().min(1).max(max);
const DAY = 86_400_000;

function isLogger(v: unknown): v is Logger {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  return ['trace', 'debug', 'info', 'warn', 'error', 'child'].every((m) => typeof l[m] === 'function');
}

function isDedupStore(v: unknown): v is DedupStore {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const optional = (name: string) => s[name] === undefined || typeof s[name] === 'function';
  return (
    typeof s.begin === 'function' &&
    typeof s.complete === 'function' &&
    typeof s.release === 'function' &&
    optional('renew')
  );
}

function isObserver(v: unknown): v is StreamObserver {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Record<string, unknown>).messageAnswered === 'function'
  );
}

const schema = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  apiBase: z
    .url({ protocol: /^https?$/ })
    .default('https://api.dingtalk.com')
    .transform(trimTrailingSlashes),
  connections: z.number().int().min(1).max(32).default(1),
  maxInFlight: z.number().int().min(1).max(100_000).default(64),
  handlerTimeoutMs: ms(DAY).default(25_000),
  keepalive: z
    .strictObject({
      enabled: z.boolean().default(true),
      intervalMs: ms(DAY).default(20_000),
      timeoutMs: ms(DAY).default(5_000),
    })
    .prefault({}),
  sendBuffer: z
    .strictObject({
      maxBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(1024 * 1024 * 1024)
        .default(8 * 1024 * 1024),
      stallTimeoutMs: ms(DAY).default(15_000),
    })
    .prefault({}),
  reconnect: z
    .strictObject({
      initialDelayMs: ms(DAY).default(100),
      maxDelayMs: ms(DAY).default(30_000),
      factor: z.number().min(1).max(10).default(2),
      jitter: z.enum(['equal', 'full']).default('equal'),
      resetAfterMs: ms(DAY).default(2_000),
    })
    .prefault({})
    .refine((r) => r.maxDelayMs >= r.initialDelayMs, {
      message: 'maxDelayMs must be at least initialDelayMs',
    }),
  dedup: z
    .strictObject({
      ttlMs: ms(7 * DAY).default(600_000),
      maxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
      leaseMarginMs: ms(DAY).default(5_000),
      leaseMs: z.number().int().min(30).max(DAY).default(30_000),
      redeliveryHorizonMs: ms(7 * DAY).default(210_000),
    })
    .prefault({}),
  dedupStore: z
    .custom<DedupStore>(isDedupStore, 'expected a DedupStore {begin, complete, release, renew?}')
    .optional(),
  observer: z.custom<StreamObserver>(isObserver, 'expected a StreamObserver {messageAnswered}').optional(),
  logger: z.custom<Logger>(isLogger, 'expected a Logger {trace, debug, info, warn, error, child}').optional(),
  localIp: z.string().min(1).max(1000).optional(),
  ua: z.string().min(1).max(200).default(USER_AGENT),
  fetch: z.custom<FetchLike>((v) => typeof v === 'function', 'expected a fetch function').optional(),
  openTimeoutMs: ms(10 * 60_000).default(10_000),
  stopTimeoutMs: z.number().int().min(0).max(DAY).default(10_000),
  maxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(MAX_FRAME_BYTES),
  malformedFrameLog: z
    .strictObject({
      burst: z.number().int().min(1).max(1_000_000).default(20),
      perSecond: z.number().min(0.001).max(1_000_000).default(1),
    })
    .prefault({}),
});

/**
 * Validates a {@link StreamClientConfig} and fills in defaults. Throws a DingTalkSkillsError with code
 * `ERR_CONFIG` listing every problem by path (values are never echoed, so the secret stays out).
 */
export function resolveStreamConfig(input: StreamClientConfig): ResolvedStreamConfig {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(config)'}: ${i.message}`)
      .join('; ');
    throw new DingTalkSkillsError(ErrorCode.Config, `invalid StreamClient config: ${problems}`);
  }
  const c = parsed.data;
  const logger = c.logger ?? createLogger({ secrets: [c.clientSecret] });
  return {
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    apiBase: c.apiBase,
    connections: c.connections,
    maxInFlight: c.maxInFlight,
    handlerTimeoutMs: c.handlerTimeoutMs,
    keepalive: c.keepalive,
    sendBuffer: c.sendBuffer,
    reconnect: c.reconnect,
    dedup: c.dedup,
    dedupStore: c.dedupStore ?? memoryDedup(c.dedup, logger, c.observer),
    observer: c.observer,
    logger,
    localIp: c.localIp ?? defaultLocalIp(),
    ua: c.ua,
    fetch: c.fetch,
    openTimeoutMs: c.openTimeoutMs,
    stopTimeoutMs: c.stopTimeoutMs,
    maxFrameBytes: c.maxFrameBytes,
    malformedFrameLog: c.malformedFrameLog,
  };
}

/**
 * The default in-memory dedup, whose early evictions (more than `maxEntries` events within the TTL) are
 * logged, a line at first and then at most one a minute with the count left out, and counted.
 */
function memoryDedup(
  dedup: Required<StreamDedupOptions>,
  logger: Logger,
  observer: StreamObserver | undefined,
): MemoryDedupStore {
  const budget = new LogBudget(1, 1 / 60);
  let unlogged = 0;
  const store: MemoryDedupStore = new MemoryDedupStore({
    maxEntries: dedup.maxEntries,
    onEvict: (count) => {
      observer?.dedupEvicted?.(count);
      unlogged += count;
      if (budget.take() === undefined) return;
      logger.warn(
        { evicted: unlogged, evictedTotal: store.evicted, maxEntries: dedup.maxEntries, ttlMs: dedup.ttlMs },
        'EVENT dedup store is full: marks evicted before their TTL (a redelivery of those events runs the handler again); raise dedup.maxEntries or use a shared store',
      );
      unlogged = 0;
    },
  });
  return store;
}
