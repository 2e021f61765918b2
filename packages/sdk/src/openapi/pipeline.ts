import type { Dispatcher } from 'undici';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import {
  CONTROL_BODY_LIMIT,
  cancelBody,
  isRedirect,
  OPENAPI_BODY_LIMIT,
  ResponseTooLargeError,
  readBodyText,
  UnexpectedRedirectError,
} from '../http/read-body.js';
import type { Logger } from '../logging/logger.js';
import { readOpenApiError } from '../protocol/openapi-error.js';
import { trimTrailingSlashes } from '../protocol/url.js';
import { USER_AGENT } from '../version.js';
import { OpenApiError, TransportErrorCode } from './errors.js';
import { OK_CODE, type OpenApiObserver } from './observer.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenSource } from './token-source.js';

/** HTTP methods of the v1.0 OpenAPI. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** One OpenAPI call, described independently of how it is sent. */
export interface OpenApiCall {
  method: HttpMethod;
  /** Path template, e.g. `/v1.0/todo/users/{unionId}/tasks/list`; it is also the rate-limit key. */
  path: string;
  /** Values of the `{name}` placeholders (URL-encoded here). */
  params?: Record<string, string>;
  /** Query string; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  body?: unknown;
  /** Whether a retry after a 5xx or network failure is safe (default: true for GET/PUT/DELETE). */
  idempotent?: boolean;
  /** A token endpoint (its body carries the app secret): the smaller control-call body limit applies. */
  tokenEndpoint?: boolean;
  /**
   * Attempts for this call, the first included (default: the client's `retry.maxAttempts`). 1 hands
   * every failure, QPS 403 included, straight to the caller (e.g. the AI card pacer, which backs off itself).
   */
  maxAttempts?: number;
}

/** Everything the pipeline needs; built once by the client. */
export interface PipelineOptions {
  apiBase: string;
  fetch: typeof fetch;
  /** The connection pool, made on first use (`undefined`: fetch's default). */
  dispatcher: (() => Dispatcher) | undefined;
  limiter: RateLimiter;
  logger: Logger;
  timeoutMs: number;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; qpsLimitDelayMs: number };
  /** Told the status, code and duration of every attempt (metrics). */
  observer?: OpenApiObserver | undefined;
  /** Largest response body read from an OpenAPI call (default 10 MiB). */
  maxResponseBytes?: number;
  /** Largest response body read from a token endpoint (default 1 MiB). */
  maxTokenResponseBytes?: number;
}

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'PUT', 'DELETE']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one outbound pipeline every OpenAPI call goes through:
 * rate limit -> token injection -> fetch (timeout, pooled keep-alive connections) -> error mapping
 * -> retry decision. Nothing here logs a token, a secret or a body.
 */
export class OpenApiPipeline {
  readonly #o: PipelineOptions;
  readonly #base: string;

  constructor(options: PipelineOptions) {
    this.#o = options;
    this.#base = trimTrailingSlashes(options.apiBase);
  }

  /** Sends `call`, authenticated by `auth` (none for the token endpoints), and returns the parsed JSON body. */
  async send(call: OpenApiCall, auth: TokenSource | undefined): Promise<unknown> {
    const api = `${call.method} ${call.path}`;
    const url = this.#url(call);
    const idempotent = call.idempotent ?? IDEMPOTENT.has(call.method);
    const maxAttempts = call.maxAttempts ?? this.#o.retry.maxAttempts;
    let attempt = 0;
    let authRetried = false;
    for (;;) {
      attempt += 1;
      await this.#o.limiter.acquire(api);
      const token = auth ? await auth.getToken() : undefined;
      try {
        return await this.#attempt(url, call, api, idempotent, token, attempt);
      } catch (err) {
        if (!(err instanceof OpenApiError)) throw err;
        if (err.isAuthFailure && token !== undefined && auth?.onAuthFailure && !authRetried) {
          authRetried = true;
          const decision = await auth.onAuthFailure(err, token);
          this.#o.logger.info(
            { api, apiCode: err.apiCode, requestId: err.requestId, decision },
            'OpenAPI rejected the token',
          );
          if (decision === 'retry') {
            attempt -= 1; // the retry with a new token does not use up the failure budget
            continue;
          }
          throw err;
        }
        if (!err.isRetryable || attempt >= maxAttempts) throw err;
        const delayMs = this.#backoff(err, attempt);
        this.#o.logger.warn(
          {
            api,
            attempt,
            maxAttempts,
            status: err.status,
            apiCode: err.apiCode,
            requestId: err.requestId,
            delayMs,
          },
          'OpenAPI call failed, retrying',
        );
        await sleep(delayMs);
      }
    }
  }

  #backoff(err: OpenApiError, attempt: number): number {
    const r = this.#o.retry;
    if (err.kind === 'rate-limit') return Math.round(r.qpsLimitDelayMs * (1 + Math.random() * 0.25));
    // Exponential with "equal jitter": half fixed, half random, capped.
    const ceiling = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  #url(call: OpenApiCall): string {
    const path = call.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = call.params?.[name];
      if (typeof value !== 'string' || value === '')
        throw new DingTalkSkillsError(
          ErrorCode.InvalidInput,
          `${call.method} ${call.path}: path parameter "${name}" must be a non-empty string`,
        );
      // encodeURIComponent leaves dots alone, and `..` as a segment would reach another DingTalk URL.
      if (value === '.' || value === '..')
        throw new DingTalkSkillsError(
          ErrorCode.InvalidInput,
          `${call.method} ${call.path}: path parameter "${name}" cannot be "." or ".."`,
        );
      return encodeURIComponent(value);
    });
    let url = this.#base + path;
    if (call.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(call.query)) if (v !== undefined) qs.set(k, String(v));
      const text = qs.toString();
      if (text) url += `?${text}`;
    }
    return url;
  }

  /** An answer that is not read (a redirect, an oversized body): an OpenApiError that is never retried. */
  #refused(
    cause: UnexpectedRedirectError | ResponseTooLargeError,
    api: string,
    status: number,
    requestId: string,
    idempotent: boolean,
    started: number,
  ): OpenApiError {
    const apiCode = refusedCode(cause);
    this.#o.logger.warn({ api, status, apiCode, requestId }, cause.message);
    this.#o.observer?.callCompleted(api, status, apiCode, (performance.now() - started) / 1000);
    return new OpenApiError({
      status,
      apiCode,
      apiMessage: cause.message,
      requestId,
      api,
      idempotent,
      cause,
    });
  }

  async #attempt(
    url: string,
    call: OpenApiCall,
    api: string,
    idempotent: boolean,
    token: string | undefined,
    attempt: number,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers['x-acs-dingtalk-access-token'] = token;
    const init: RequestInit & { dispatcher?: Dispatcher } = {
      method: call.method,
      headers,
      signal: AbortSignal.timeout(this.#o.timeoutMs),
      // Calls carry a token or the app secret: a redirect is never followed (it would send them to
      // wherever Location points); a 3xx is an error below.
      redirect: 'manual',
    };
    if (call.body !== undefined) init.body = JSON.stringify(call.body);
    if (this.#o.dispatcher) init.dispatcher = this.#o.dispatcher();

    const started = performance.now();
    let status = 0;
    let text: string;
    let headerRequestId = '';
    try {
      const res = await this.#o.fetch(url, init);
      status = res.status;
      headerRequestId = res.headers.get('x-acs-request-id') ?? '';
      if (isRedirect(status)) {
        await cancelBody(res);
        throw new UnexpectedRedirectError(api, status);
      }
      const limit = call.tokenEndpoint
        ? (this.#o.maxTokenResponseBytes ?? CONTROL_BODY_LIMIT)
        : (this.#o.maxResponseBytes ?? OPENAPI_BODY_LIMIT);
      text = await readBodyText(res, limit, api);
    } catch (cause) {
      if (cause instanceof UnexpectedRedirectError || cause instanceof ResponseTooLargeError)
        throw this.#refused(cause, api, status, headerRequestId, idempotent, started);
      const timedOut =
        cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
      this.#o.logger.debug({ api, attempt, error: String(cause) }, 'OpenAPI call got no response');
      const apiCode = timedOut ? TransportErrorCode.Timeout : TransportErrorCode.Network;
      this.#o.observer?.callCompleted(api, 0, apiCode, (performance.now() - started) / 1000);
      throw new OpenApiError({
        status: 0,
        apiCode,
        apiMessage: timedOut ? `no response within ${this.#o.timeoutMs} ms` : describeCause(cause),
        requestId: headerRequestId,
        api,
        idempotent,
        cause,
      });
    }
    const elapsed = performance.now() - started;
    const ms = Math.round(elapsed);
    this.#o.logger.debug({ api, attempt, status, ms, requestId: headerRequestId }, 'OpenAPI call');

    let json: unknown;
    let parsed = true;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = false; // reported below with the status it came with
    }
    const observer = this.#o.observer;
    if (status >= 200 && status < 300) {
      observer?.callCompleted(
        api,
        status,
        parsed ? OK_CODE : TransportErrorCode.InvalidResponse,
        elapsed / 1000,
      );
      if (!parsed)
        throw new OpenApiError({
          status,
          apiCode: TransportErrorCode.InvalidResponse,
          apiMessage: `response body is not JSON (${text.length} characters)`,
          requestId: headerRequestId,
          api,
          idempotent,
        });
      return json;
    }
    const body = parsed ? readOpenApiError(json) : undefined;
    const failure = {
      status,
      apiCode: body?.code ?? `Http${status}`,
      apiMessage: body?.message ?? '',
      requestId: body?.requestid || headerRequestId,
      api,
      idempotent,
    };
    observer?.callCompleted(api, status, failure.apiCode, elapsed / 1000);
    const scopes = body?.accessdenieddetail?.requiredScopes;
    throw new OpenApiError(scopes ? { ...failure, requiredScopes: scopes } : failure);
  }
}

/** Codes of answers the pipeline refuses to read. */
function refusedCode(cause: UnexpectedRedirectError | ResponseTooLargeError): string {
  return cause instanceof UnexpectedRedirectError
    ? TransportErrorCode.Redirect
    : TransportErrorCode.ResponseTooLarge;
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
  return `${cause.message}${inner}`;
}
