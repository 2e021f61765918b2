import { createHash } from 'node:crypto';
import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { hashSecret, newOpaqueToken } from '../ids.js';
import { Lifetime } from '../lifetimes.js';

/** A freshly issued user token pair (the only time the values exist in clear). */
export interface UserTokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires (7200). */
  expireIn: number;
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

/** Who a presented access token belongs to. */
export type ResolvedToken =
  | { kind: 'user'; userId: string; clientId: string; expiresAt: number }
  | { kind: 'app'; clientId: string; expiresAt: number };

/**
 * Seals (or opens) an access token with the refresh token it was issued with: XOR with a pad derived
 * from the refresh token, so the database never holds a usable token and only the refresh token's
 * holder can read it back. Tokens are 32 hex characters (16 bytes).
 */
function sealWith(refreshToken: string, hex: string): string | undefined {
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  const pad = createHash('sha256').update(`sandbox-paired-access\u0000${refreshToken}`, 'utf8').digest();
  const value = Buffer.from(hex, 'hex');
  for (let i = 0; i < value.length; i++) value[i] = value[i]! ^ pad[i]!;
  return value.toString('hex');
}

interface UserTokenRow {
  client_id: string;
  user_id: string;
  expires_at: number;
}

/** User access/refresh tokens and app tokens, stored as sha256 hashes. */
export class TokensRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Issues a refresh token and an access token for (user, app). With `renew` (the access token a spent
   * refresh token was issued with) that is still valid for this user and app, the same access token is
   * kept and its validity starts again (DingTalk: a repeated fetch within validity returns the same
   * token); otherwise a new one is made.
   */
  issueUserTokens(userId: string, clientId: string, renew?: string): UserTokenPair & { renewed: boolean } {
    const now = this.#clock.now();
    const refreshToken = newOpaqueToken();
    const insert = this.#db.prepare(
      `INSERT INTO user_tokens (token_hash, kind, client_id, user_id, created_at, expires_at, paired_access)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const accessExpiresAt = now + Lifetime.accessTokenMs;
    let renewed = false;
    let accessToken = '';
    this.#db.transaction(() => {
      if (renew !== undefined)
        renewed =
          this.#db
            .prepare(
              `UPDATE user_tokens SET expires_at = ?
               WHERE token_hash = ? AND kind = 'access' AND user_id = ? AND client_id = ?
                 AND revoked_at IS NULL AND expires_at > ?`,
            )
            .run(accessExpiresAt, hashSecret(renew), userId, clientId, now).changes === 1;
      accessToken = renewed && renew !== undefined ? renew : newOpaqueToken();
      if (!renewed)
        insert.run(hashSecret(accessToken), 'access', clientId, userId, now, accessExpiresAt, null);
      insert.run(
        hashSecret(refreshToken),
        'refresh',
        clientId,
        userId,
        now,
        now + Lifetime.refreshTokenMs,
        sealWith(refreshToken, accessToken) ?? null,
      );
      this.#prune(now);
    })();
    return {
      accessToken,
      refreshToken,
      expireIn: Lifetime.accessTokenMs / 1000,
      accessExpiresAt,
      refreshExpiresAt: now + Lifetime.refreshTokenMs,
      renewed,
    };
  }

  /**
   * Uses a refresh token: valid once, unexpired, for the app it was issued to. The token is spent
   * (rotation); the caller issues the new pair. `ok` false when it is unknown, spent or expired;
   * `userId` names the owner whenever the token was ever issued to this app.
   */
  spendRefreshToken(
    refreshToken: string,
    clientId: string,
  ): { ok: boolean; userId: string | undefined; pairedAccess?: string } {
    const now = this.#clock.now();
    const hash = hashSecret(refreshToken);
    const row = this.#db
      .prepare(
        `SELECT user_id, expires_at, revoked_at, paired_access FROM user_tokens
         WHERE token_hash = ? AND kind = 'refresh' AND client_id = ?`,
      )
      .get(hash, clientId) as
      | { user_id: string; expires_at: number; revoked_at: number | null; paired_access: string | null }
      | undefined;
    if (!row) return { ok: false, userId: undefined };
    if (row.revoked_at !== null || row.expires_at <= now) return { ok: false, userId: row.user_id };
    const changed = this.#db
      .prepare('UPDATE user_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL')
      .run(now, hash).changes;
    const pairedAccess = row.paired_access === null ? undefined : sealWith(refreshToken, row.paired_access);
    return { ok: changed === 1, userId: row.user_id, ...(pairedAccess ? { pairedAccess } : {}) };
  }

  /** Issues an app (enterprise) access token. */
  issueAppToken(clientId: string): { accessToken: string; expireIn: number; expiresAt: number } {
    const now = this.#clock.now();
    const accessToken = newOpaqueToken();
    const expiresAt = now + Lifetime.appTokenMs;
    this.#db
      .prepare('INSERT INTO app_tokens (token_hash, client_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(hashSecret(accessToken), clientId, now, expiresAt);
    return { accessToken, expireIn: Lifetime.appTokenMs / 1000, expiresAt };
  }

  /** Resolves an access token presented in `x-acs-dingtalk-access-token`; undefined if unknown or expired. */
  resolveAccessToken(token: string): ResolvedToken | undefined {
    const now = this.#clock.now();
    const hash = hashSecret(token);
    const user = this.#db
      .prepare(
        `SELECT client_id, user_id, expires_at FROM user_tokens
         WHERE token_hash = ? AND kind = 'access' AND revoked_at IS NULL AND expires_at > ?`,
      )
      .get(hash, now) as UserTokenRow | undefined;
    if (user)
      return { kind: 'user', userId: user.user_id, clientId: user.client_id, expiresAt: user.expires_at };
    const app = this.#db
      .prepare('SELECT client_id, expires_at FROM app_tokens WHERE token_hash = ? AND expires_at > ?')
      .get(hash, now) as { client_id: string; expires_at: number } | undefined;
    return app ? { kind: 'app', clientId: app.client_id, expiresAt: app.expires_at } : undefined;
  }

  /** Expires a user's live access tokens now (all apps, or one). Returns how many. */
  expireUserAccessTokens(userId: string, clientId?: string): number {
    const now = this.#clock.now();
    return this.#db
      .prepare(
        `UPDATE user_tokens SET expires_at = ?
         WHERE user_id = ? AND kind = 'access' AND expires_at > ? AND (? IS NULL OR client_id = ?)`,
      )
      .run(now, userId, now, clientId ?? null, clientId ?? null).changes;
  }

  /**
   * Expires a user's live refresh tokens now (all apps, or one), as if their 30 days had passed: the
   * next `grantType: refresh_token` answers 400 and the app must ask the user to consent again.
   * Returns how many.
   */
  expireUserRefreshTokens(userId: string, clientId?: string): number {
    const now = this.#clock.now();
    return this.#db
      .prepare(
        `UPDATE user_tokens SET expires_at = ?
         WHERE user_id = ? AND kind = 'refresh' AND revoked_at IS NULL AND expires_at > ?
           AND (? IS NULL OR client_id = ?)`,
      )
      .run(now, userId, now, clientId ?? null, clientId ?? null).changes;
  }

  /** Drops rows that expired more than a day ago (they answer like unknown tokens anyway). */
  #prune(now: number): void {
    const before = now - 86_400_000;
    this.#db.prepare('DELETE FROM user_tokens WHERE expires_at < ?').run(before);
    this.#db.prepare('DELETE FROM app_tokens WHERE expires_at < ?').run(before);
  }
}
