import { z } from 'zod';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { OPENAPI_BODY_LIMIT } from '../http/read-body.js';
import type { Logger } from '../logging/logger.js';
import type { OpenApiObserver } from './observer.js';
import type { RateLimiter } from './rate-limiter.js';

/** Retry policy of the outbound pipeline. */
export interface RetryOptions {
  /** Attempts per call, the first included (default 3). */
  maxAttempts?: number;
  /** First backoff for 5xx/network failures of idempotent calls (default 200 ms); doubles per attempt, with jitter. */
  baseDelayMs?: number;
  /** Cap of one backoff (default 2000 ms). */
  maxDelayMs?: number;
  /** Backoff after a QPS-limit 403 (default 1000 ms, DingTalk's advice), plus up to 25% jitter. */
  qpsLimitDelayMs?: number;
}

/** Outbound QPS budget per API (`METHOD /path/template`), or a limiter of your own. */
export type RateLimitOption = false | { qps: number; windowMs?: number } | RateLimiter;

/** Configuration of {@link createOpenApiClient}. The library never reads the environment: pass everything here. */
export interface OpenApiClientConfig {
  /** Base URL of the v1.0 OpenAPI (default `https://api.dingtalk.com`; the sandbox's URL in development). */
  apiBase?: string;
  /** The app's AppKey / Client ID. */
  clientId: string;
  /** The app's AppSecret / Client Secret. Never logged. */
  clientSecret: string;
  /** Where the client logs (default: a redacting pino logger at info). */
  logger?: Logger;
  /** The fetch to use (default: the global fetch). Receives undici's `dispatcher` in its init. */
  fetch?: typeof fetch;
  /** Keep-alive connections per origin (default 8). */
  maxConnections?: number;
  /** Deadline of one attempt in ms (default 10000). */
  timeoutMs?: number;
  /**
   * Largest response body read from an API call (default 10 MiB); a larger one fails with apiCode
   * `ResponseTooLarge` and the connection is closed. Token endpoints always stop at 1 MiB.
   */
  maxResponseBytes?: number;
  retry?: RetryOptions;
  /** Outbound rate limit (default `{ qps: 20 }`, DingTalk's limit per app and API for standard orgs). */
  rateLimit?: RateLimitOption;
  /** Refresh the cached app token this long before it expires (default 5 minutes). */
  appTokenMarginMs?: number;
  /** Time source in ms (default `Date.now`); the dev server passes the sandbox clock. */
  now?: () => number;
  /** Told the status, code and duration of every attempt (e.g. the Prometheus `Metrics`). */
  observer?: OpenApiObserver;
}

const isFunction = (v: unknown) => typeof v === 'function';
const isLogger = (v: unknown): v is Logger =>
  typeof v === 'object' &&
  v !== null &&
  ['trace', 'debug', 'info', 'warn', 'error', 'child'].every(
    (m) => typeof (v as Record<string, unknown>)[m] === 'function',
  );
const isRateLimiter = (v: unknown): v is RateLimiter =>
  typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).acquire === 'function';

const positiveInt = z.number().int().positive();
const nonNegative = z.number().finite().nonnegative();

/** The zod schema behind {@link OpenApiClientConfig}. */
export const openApiClientConfigSchema = z.object({
  apiBase: z
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
    .default('https://api.dingtalk.com'),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  logger: z.custom<Logger>(isLogger, 'must be a Logger').optional(),
  fetch: z.custom<typeof fetch>(isFunction, 'must be a function').optional(),
  maxConnections: positiveInt.default(8),
  timeoutMs: positiveInt.default(10_000),
  maxResponseBytes: positiveInt.max(1024 * 1024 * 1024).default(OPENAPI_BODY_LIMIT),
  retry: z
    .object({
      maxAttempts: positiveInt.default(3),
      baseDelayMs: nonNegative.default(200),
      maxDelayMs: nonNegative.default(2000),
      qpsLimitDelayMs: nonNegative.default(1000),
    })
    .default({ maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000, qpsLimitDelayMs: 1000 }),
  rateLimit: z
    .union([
      z.literal(false),
      z.custom<RateLimiter>(isRateLimiter, 'must be a RateLimiter'),
      z.object({ qps: positiveInt, windowMs: positiveInt.optional() }),
    ])
    .default({ qps: 20 }),
  appTokenMarginMs: nonNegative.default(5 * 60_000),
  now: z.custom<() => number>(isFunction, 'must be a function').optional(),
  observer: z
    .custom<OpenApiObserver>(
      (v) =>
        typeof v === 'object' && v !== null && typeof (v as OpenApiObserver).callCompleted === 'function',
      'must be an OpenApiObserver {callCompleted}',
    )
    .optional(),
});

/** The config after validation and defaults. */
export type ResolvedOpenApiClientConfig = z.output<typeof openApiClientConfigSchema>;

/** Validates the config; throws DingTalkSkillsError `ERR_CONFIG` naming every bad field (never their values). */
export function parseOpenApiClientConfig(config: OpenApiClientConfig): ResolvedOpenApiClientConfig {
  const result = openApiClientConfigSchema.safeParse(config);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new DingTalkSkillsError(ErrorCode.Config, `invalid OpenAPI client config: ${problems.join('; ')}`, {
      cause: result.error,
    });
  }
  return result.data;
}
