import type { Logger } from '../logging/logger.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import { isOpenApiError, type OpenApiError } from './errors.js';
import type { AppTokenGrant } from './grants.js';
import type { TokenSource } from './token-source.js';

/**
 * The app's access token (企业凭证): fetched on first use, cached until `marginMs` before it
 * expires, and single-flight: any number of concurrent callers share one request. On
 * `InvalidAuthentication` the cached token is dropped and the call is retried once with a new one.
 */
export class AppTokenProvider implements TokenSource {
  readonly #issue: () => Promise<AppTokenGrant>;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  #cached: { token: string; refreshAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(issue: () => Promise<AppTokenGrant>, marginMs: number, now: () => number, logger: Logger) {
    this.#issue = issue;
    this.#marginMs = marginMs;
    this.#now = now;
    this.#logger = logger;
  }

  /** The cached token, or a new one (one request however many callers wait). */
  getToken(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return Promise.resolve(cached.token);
    this.#pending ??= this.#fetch();
    return this.#pending;
  }

  /** Forgets the cached token (only if it is `token`, when given), so the next call fetches a new one. */
  invalidate(token?: string): void {
    if (token === undefined || this.#cached?.token === token) this.#cached = undefined;
  }

  async onAuthFailure(err: OpenApiError, failedToken?: string): Promise<'retry' | 'fail'> {
    if (!isOpenApiError(err, AuthFailureCode.InvalidAuthentication)) return 'fail';
    this.invalidate(failedToken ?? this.#cached?.token);
    return 'retry';
  }

  async #fetch(): Promise<string> {
    try {
      const issuedAt = this.#now();
      const grant = await this.#issue();
      const lifetime = grant.expiresAt - issuedAt;
      // Never keep a token for less than half its life, even with a margin larger than that.
      const margin = Math.min(this.#marginMs, lifetime / 2);
      this.#cached = { token: grant.accessToken, refreshAt: grant.expiresAt - margin };
      this.#logger.debug({ expiresInMs: lifetime }, 'app access token issued');
      return grant.accessToken;
    } finally {
      this.#pending = undefined;
    }
  }
}
