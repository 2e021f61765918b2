import { createHash } from 'node:crypto';
import { createLogger, type Logger } from '../logging/logger.js';
import type { OpenApiClient } from '../openapi/client.js';
import { OpenApiError } from '../openapi/errors.js';
import type { UserTokenGrant } from '../openapi/grants.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import { OpenApiErrorCode } from '../protocol/openapi-error.js';
import { AuthorizationRequiredError, IdentityMismatchError } from './authorization-required.js';
import { InProcessRefreshLock, type RefreshLock } from './refresh-lock.js';
import type { TokenCallResult, UserTokenObserver } from './token-observer.js';
import type { StoredUserToken, TokenStore } from './token-store.js';
import { type HeldUserToken, type RenewToken, UserTokenHandle } from './user-token-handle.js';

/** Options of {@link UserTokenManager}. */
export interface UserTokenManagerOptions {
  /** The client whose app (clientId/secret) exchanges codes and refreshes tokens. */
  openapi: OpenApiClient;
  store: TokenStore;
  logger?: Logger;
  /** Refresh this long before expiry (default 60 s). */
  clockSkewMs?: number;
  /** How long a refresh token is kept (default 30 days, DingTalk's refresh token lifetime). */
  refreshTokenTtlMs?: number;
  /** Exclusion around refresh-and-store per user (default: in this process). */
  lock?: RefreshLock;
  /** Time source in ms (default `Date.now`). */
  now?: () => number;
  /** Told how every refresh and code exchange ended (e.g. the Prometheus `Metrics`). */
  observer?: UserTokenObserver;
}

/** What an invocation may carry that identifies the user's credential. */
export interface ResolveUserTokenInput {
  /** A token handed over as is (AI plugin callback `data.accessToken`); used directly, not refreshable. */
  accessToken?: string | undefined;
  /** An authorization code (`x-dingtalk-context` `oauthAuthCode`), exchanged at `/v1.0/oauth2/userAccessToken`. */
  authCode?: string | undefined;
  /** The user's unionId, to find and file a stored token. */
  unionId?: string | undefined;
}

const DAY_MS = 86_400_000;
/** How long a token's owner is remembered, and how many are. */
const OWNER_CACHE_MS = 60_000;
const OWNER_CACHE_MAX = 10_000;

/** The OpenAPI codes of the token endpoint that mean the app itself is misconfigured, not the user's grant. */
const APP_CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  OpenApiErrorCode.InvalidClient,
  OpenApiErrorCode.AuthFailed,
]);

/** True when the token endpoint rejected the user's code or refresh token itself (a dead grant). */
function isDeadGrant(err: unknown): err is OpenApiError {
  return (
    err instanceof OpenApiError &&
    err.status >= 400 &&
    err.status < 500 &&
    err.kind !== 'rate-limit' &&
    !APP_CREDENTIAL_CODES.has(err.apiCode)
  );
}

/**
 * Finds, exchanges, stores and refreshes users' delegated tokens (用户代理凭证).
 *
 * Refresh is single-flight per user in this process (concurrent callers share one refresh call) and
 * runs under a {@link RefreshLock}, re-reading the store first, so with a shared lock and store only
 * one instance spends the single-use refresh token. A refresh token DingTalk rejects is deleted and
 * surfaces as AuthorizationRequiredError (`InvalidAuthentication`): the caller answers with the card.
 */
export class UserTokenManager {
  readonly #openapi: OpenApiClient;
  readonly #store: TokenStore;
  readonly #logger: Logger;
  readonly #skewMs: number;
  readonly #refreshTtlMs: number;
  readonly #lock: RefreshLock;
  readonly #now: () => number;
  readonly #observer: UserTokenObserver | undefined;
  readonly #inflight = new Map<string, Promise<StoredUserToken>>();
  /** Owners of handed-over tokens, by sha256 of the token (see {@link identify}). */
  readonly #owners = new Map<string, { unionId: string; until: number }>();

  constructor(options: UserTokenManagerOptions) {
    this.#openapi = options.openapi;
    this.#store = options.store;
    this.#logger = (options.logger ?? createLogger({ name: 'dingtalk-skills' })).child({
      component: 'user-tokens',
    });
    this.#skewMs = options.clockSkewMs ?? 60_000;
    this.#refreshTtlMs = options.refreshTokenTtlMs ?? 30 * DAY_MS;
    this.#lock = options.lock ?? new InProcessRefreshLock();
    this.#now = options.now ?? Date.now;
    this.#observer = options.observer;
  }

  /** The store key of a user's token: `<clientId>:<unionId>`. */
  keyFor(unionId: string): string {
    return `${this.#openapi.clientId}:${unionId}`;
  }

  /**
   * The user's token for this invocation, looked for in this order: a direct `accessToken`; an
   * `authCode` (exchanged, then stored under its owner's unionId as DingTalk reports it; refused with
   * IdentityMismatchError when that is not the given unionId; used once, unstored, when DingTalk does
   * not say);
   * a stored token for `unionId` (refreshed when expired or within the skew). Undefined when there
   * is none (the caller asks the user to authorize). Rejects with OpenApiError on transport or
   * app-credential failures, never hides them as undefined.
   */
  async resolve(input: ResolveUserTokenInput): Promise<UserTokenHandle | undefined> {
    if (input.accessToken) {
      return this.#handle('direct', input.unionId, false, {
        accessToken: input.accessToken,
        refreshToken: undefined,
        expiresAt: undefined,
        corpId: undefined,
      });
    }
    if (input.authCode) {
      const fromCode = await this.#fromAuthCode(input.authCode, input.unionId);
      if (fromCode) return fromCode;
    }
    if (input.unionId) return this.#fromStore(input.unionId);
    return undefined;
  }

  /** Like {@link resolve}, but throws AuthorizationRequiredError (`InvalidAuthentication`) when there is no token. */
  async require(input: ResolveUserTokenInput): Promise<UserTokenHandle> {
    const handle = await this.resolve(input);
    if (!handle)
      throw new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, {
        message: 'no user token for this invocation: the user must authorize',
      });
    return handle;
  }

  /** Deletes the stored token of a user (e.g. on sign-out or revoked consent). */
  async forget(unionId: string): Promise<void> {
    await this.#store.delete(this.keyFor(unionId));
  }

  async #fromAuthCode(
    authCode: string,
    givenUnionId: string | undefined,
  ): Promise<UserTokenHandle | undefined> {
    let grant: UserTokenGrant;
    try {
      grant = await this.#openapi.oauth.exchangeCode(authCode);
      this.#observer?.codeExchanged('ok');
    } catch (err) {
      this.#observer?.codeExchanged(callResult(err));
      if (!isDeadGrant(err)) throw err;
      // A used or expired code (e.g. a replayed invocation): a stored token may still serve.
      this.#logger.warn(
        { apiCode: err.apiCode, requestId: err.requestId, unionId: givenUnionId },
        'authorization code rejected; falling back to a stored token',
      );
      return undefined;
    }
    const held = heldFromGrant(grant);
    // File the token only under the identity it is proven to belong to: ask DingTalk whose it is.
    const owner = await this.#ownerOf(held.accessToken);
    if (owner && givenUnionId && owner !== givenUnionId) {
      this.#observer?.identityMismatch?.('authCode');
      this.#logger.warn(
        { event: 'security.identity_mismatch', via: 'authCode', asserted: givenUnionId, owner },
        'security: an authorization code of another user was presented; refused, nothing stored',
      );
      throw new IdentityMismatchError('the authorization code belongs to another user');
    }
    if (!owner) {
      this.#logger.info(
        { unionId: givenUnionId },
        "the token's owner is unknown (contact.me failed): it serves this invocation only, not stored",
      );
      return this.#handle('authCode', givenUnionId, false, held);
    }
    const key = this.keyFor(owner);
    await this.#save(key, owner, held);
    this.#logger.info({ unionId: owner, refreshable: held.refreshToken !== undefined }, 'user token stored');
    return this.#handle('authCode', owner, true, held);
  }

  /**
   * The unionId of a token's owner, asked of DingTalk (`GET /v1.0/contact/users/me`, reachable with the
   * `openid` scope every consent carries). Undefined when DingTalk does not say (no scope, expired
   * token, an outage): the caller then must not file the token under anyone.
   */
  async #ownerOf(accessToken: string): Promise<string | undefined> {
    try {
      return (await this.#openapi.asUser(accessToken).contact.me()).unionId || undefined;
    } catch (err) {
      if (!(err instanceof OpenApiError)) throw err;
      this.#logger.debug({ apiCode: err.apiCode, requestId: err.requestId }, 'contact.me failed');
      return undefined;
    }
  }

  /**
   * The unionId of the user a token handed over by the platform belongs to (the legacy plugin's
   * `accessToken`), asked of DingTalk and remembered for a short while per token hash (never the
   * token itself). Undefined when DingTalk does not say.
   */
  async identify(accessToken: string): Promise<string | undefined> {
    const hash = createHash('sha256').update(accessToken).digest('base64url');
    const now = this.#now();
    const cached = this.#owners.get(hash);
    if (cached && cached.until > now) return cached.unionId;
    const unionId = await this.#ownerOf(accessToken);
    if (unionId) {
      if (this.#owners.size >= OWNER_CACHE_MAX) {
        for (const [k, v] of this.#owners) if (v.until <= now) this.#owners.delete(k);
        if (this.#owners.size >= OWNER_CACHE_MAX) this.#owners.clear();
      }
      this.#owners.set(hash, { unionId, until: now + OWNER_CACHE_MS });
    }
    return unionId;
  }

  async #fromStore(unionId: string): Promise<UserTokenHandle | undefined> {
    const key = this.keyFor(unionId);
    let stored = await this.#store.get(key);
    if (!stored) return undefined;
    if (this.#isExpiring(stored)) {
      if (!stored.refreshToken) {
        await this.#store.delete(key);
        return undefined;
      }
      try {
        stored = await this.#refreshStored(key, stored.accessToken);
      } catch (err) {
        if (err instanceof AuthorizationRequiredError) return undefined;
        throw err;
      }
    }
    return this.#handle('stored', unionId, true, heldFromStored(stored));
  }

  #handle(
    origin: 'direct' | 'authCode' | 'stored',
    unionId: string | undefined,
    persisted: boolean,
    token: HeldUserToken,
  ): UserTokenHandle {
    let renew: RenewToken | undefined;
    if (token.refreshToken !== undefined) {
      if (persisted && unionId) {
        const key = this.keyFor(unionId);
        renew = async (stale) => heldFromStored(await this.#refreshStored(key, stale));
      } else {
        renew = this.#ephemeralRenewer(token);
      }
    }
    return new UserTokenHandle({
      origin,
      unionId,
      persisted,
      token,
      renew,
      now: this.#now,
      skewMs: this.#skewMs,
      logger: this.#logger,
    });
  }

  /** A renewer for a token that is not stored: single-flight within the handle's own chain. */
  #ephemeralRenewer(initial: HeldUserToken): RenewToken {
    let current = initial;
    let pending: Promise<HeldUserToken> | undefined;
    return (stale) => {
      if (current.accessToken !== stale) return Promise.resolve(current);
      pending ??= (async () => {
        try {
          const rt = current.refreshToken;
          if (!rt) throw this.#authRequired('the token cannot be refreshed');
          current = heldFromGrant(await this.#refreshGrant(rt));
          return current;
        } finally {
          pending = undefined;
        }
      })();
      return pending;
    };
  }

  /**
   * Refreshes the stored token of `key` unless someone already did: single-flight per key in this
   * process, then under the lock, re-reading the store. `stale` is the access token the caller found
   * expired or saw rejected.
   */
  #refreshStored(key: string, stale: string): Promise<StoredUserToken> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const startedAt = this.#now();
    const flight = (async () => {
      try {
        return await this.#lock.run(key, async () => {
          const stored = await this.#store.get(key);
          if (!stored) throw this.#authRequired('the stored token is gone (deleted or expired)');
          // Someone else refreshed while we waited: a new token, or (DingTalk renews a token refreshed
          // within its validity) the same one saved again after this flight began.
          const refreshedMeanwhile = stored.accessToken !== stale || stored.updatedAt > startedAt;
          if (refreshedMeanwhile && !this.#isExpiring(stored)) return stored;
          if (!stored.refreshToken) {
            await this.#store.delete(key);
            throw this.#authRequired('the stored token expired and has no refresh token');
          }
          let grant: UserTokenGrant;
          try {
            grant = await this.#refreshGrant(stored.refreshToken);
          } catch (err) {
            if (err instanceof AuthorizationRequiredError) await this.#store.delete(key);
            throw err;
          }
          const next = await this.#save(key, stored.unionId, heldFromGrant(grant), stored.corpId);
          this.#logger.info({ unionId: stored.unionId }, 'user token refreshed');
          return next;
        });
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, flight);
    return flight;
  }

  /** One refresh call; a rejected refresh token becomes AuthorizationRequiredError(InvalidAuthentication). */
  async #refreshGrant(refreshToken: string): Promise<UserTokenGrant> {
    try {
      const grant = await this.#openapi.oauth.refresh(refreshToken);
      this.#observer?.tokenRefreshed('ok');
      return grant;
    } catch (err) {
      this.#observer?.tokenRefreshed(callResult(err));
      if (!isDeadGrant(err)) throw err;
      this.#logger.info(
        { apiCode: err.apiCode, requestId: err.requestId },
        'refresh token rejected: the user must authorize again',
      );
      throw new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, {
        message: `the refresh token was rejected (${err.apiCode}): the user must authorize again`,
        openApiRequestId: err.requestId,
        cause: err,
      });
    }
  }

  async #save(
    key: string,
    unionId: string,
    held: HeldUserToken,
    previousCorpId?: string,
  ): Promise<StoredUserToken> {
    const now = this.#now();
    const value: StoredUserToken = {
      unionId,
      accessToken: held.accessToken,
      refreshToken: held.refreshToken,
      expiresAt: held.expiresAt ?? now,
      corpId: held.corpId ?? previousCorpId,
      updatedAt: now,
    };
    const ttl = value.refreshToken ? this.#refreshTtlMs : Math.max(1, value.expiresAt - now);
    await this.#store.set(key, value, ttl);
    return value;
  }

  #isExpiring(token: { expiresAt: number }): boolean {
    return token.expiresAt - this.#skewMs <= this.#now();
  }

  #authRequired(message: string): AuthorizationRequiredError {
    return new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, { message });
  }
}

function callResult(err: unknown): TokenCallResult {
  return isDeadGrant(err) ? 'rejected' : 'error';
}

function heldFromGrant(grant: UserTokenGrant): HeldUserToken {
  return {
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    expiresAt: grant.expiresAt,
    corpId: grant.corpId,
  };
}

function heldFromStored(stored: StoredUserToken): HeldUserToken {
  return {
    accessToken: stored.accessToken,
    refreshToken: stored.refreshToken,
    expiresAt: stored.expiresAt,
    corpId: stored.corpId,
  };
}
