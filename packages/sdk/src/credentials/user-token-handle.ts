import { toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { isOpenApiError, type OpenApiError } from '../openapi/errors.js';
import type { UserTokenSource } from '../openapi/token-source.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';

/** Where a handle's token came from. */
export type UserTokenOrigin = 'direct' | 'authCode' | 'stored';

/** The token a handle currently holds. */
export interface HeldUserToken {
  accessToken: string;
  refreshToken: string | undefined;
  /** ms since the epoch; undefined when unknown (a token handed over as is). */
  expiresAt: number | undefined;
  corpId: string | undefined;
}

/** How a handle renews its token: returns a token newer than `staleAccessToken` or throws. */
export type RenewToken = (staleAccessToken: string) => Promise<HeldUserToken>;

/**
 * One user's token for one invocation, usable as the `tokenSource` of `client.asUser(handle)`.
 * `getToken()` refreshes when the token is expired or within the clock skew; when DingTalk rejects the
 * token (`InvalidAuthentication`, or `AccessTokenPermissionDenied` for a missing scope), `onAuthFailure`
 * refreshes once and asks for a retry: a token issued before the user granted more may lack what the
 * grant holds now. If the retry fails too, the error ends the invocation with the authorization card.
 */
export class UserTokenHandle implements UserTokenSource {
  readonly origin: UserTokenOrigin;
  readonly unionId: string | undefined;
  /** True when the token is kept in the token store between invocations. */
  readonly persisted: boolean;
  #held: HeldUserToken;
  readonly #renew: RenewToken | undefined;
  readonly #now: () => number;
  readonly #skewMs: number;
  readonly #logger: Logger | undefined;

  constructor(init: {
    origin: UserTokenOrigin;
    unionId: string | undefined;
    persisted: boolean;
    token: HeldUserToken;
    renew: RenewToken | undefined;
    now: () => number;
    skewMs: number;
    /** Where a failed refresh after a 403 is reported (the 403 itself goes on to the caller). */
    logger?: Logger;
  }) {
    this.origin = init.origin;
    this.unionId = init.unionId;
    this.persisted = init.persisted;
    this.#held = init.token;
    this.#renew = init.renew;
    this.#now = init.now;
    this.#skewMs = init.skewMs;
    this.#logger = init.logger;
  }

  /** True when the handle can get a new token without the user (it holds a refresh token). */
  get canRefresh(): boolean {
    return this.#renew !== undefined && this.#held.refreshToken !== undefined;
  }

  /** Expiry of the held access token (ms since the epoch), when known. */
  get expiresAt(): number | undefined {
    return this.#held.expiresAt;
  }

  get corpId(): string | undefined {
    return this.#held.corpId;
  }

  /** True when the held token is expired or expires within the skew. */
  get isExpiring(): boolean {
    const exp = this.#held.expiresAt;
    return exp !== undefined && exp - this.#skewMs <= this.#now();
  }

  async getToken(): Promise<string> {
    if (this.isExpiring && this.canRefresh) await this.#refresh(this.#held.accessToken);
    return this.#held.accessToken;
  }

  async onAuthFailure(err: OpenApiError, failedToken?: string): Promise<'retry' | 'fail'> {
    const invalid = isOpenApiError(err, AuthFailureCode.InvalidAuthentication);
    const missingScope = isOpenApiError(err, AuthFailureCode.PermissionDenied);
    if ((!invalid && !missingScope) || !this.canRefresh) return 'fail';
    const failed = failedToken ?? this.#held.accessToken;
    // Another call of this handle may already have replaced the failed token.
    if (this.#held.accessToken !== failed) return 'retry';
    if (invalid) {
      await this.#refresh(failed);
      return 'retry';
    }
    // A missing scope: the refresh is only a chance. If it fails (network, a dead refresh token), the
    // 403 and its requiredScopes stand, so the user gets the card that asks for the scope.
    try {
      await this.#refresh(failed);
    } catch (refreshErr) {
      this.#logger?.warn(
        { unionId: this.unionId, err: toError(refreshErr) },
        'refresh after a missing-scope 403 failed; answering with the 403 and its required scopes',
      );
      return 'fail';
    }
    return 'retry';
  }

  async #refresh(stale: string): Promise<void> {
    const renew = this.#renew;
    if (!renew) return;
    const next = await renew(stale);
    // Keep whichever is newer if two refreshes of this handle raced.
    if (this.#held.accessToken === stale) this.#held = next;
  }
}
