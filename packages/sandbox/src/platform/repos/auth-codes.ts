import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { hashSecret, newOpaqueToken } from '../ids.js';
import { readStringList } from '../json-column.js';
import { Lifetime } from '../lifetimes.js';

/** What an authorization code was issued for. */
export interface AuthCodeRecord {
  clientId: string;
  userId: string;
  scopes: string[];
  redirectUri: string;
  createdAt: number;
  expiresAt: number;
}

interface CodeRow {
  client_id: string;
  user_id: string;
  scopes: string;
  redirect_uri: string;
  created_at: number;
  expires_at: number;
}

/** Single-use, short-lived authorization codes, stored as sha256 hashes. */
export class AuthCodesRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Issues a code bound to app + user + scopes + redirect URI. Returns the code in clear (once). */
  issue(input: { clientId: string; userId: string; scopes: readonly string[]; redirectUri: string }): string {
    const code = newOpaqueToken();
    const now = this.#clock.now();
    this.#db
      .prepare(
        `INSERT INTO auth_codes (code_hash, client_id, user_id, scopes, redirect_uri, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        hashSecret(code),
        input.clientId,
        input.userId,
        JSON.stringify([...input.scopes]),
        input.redirectUri,
        now,
        now + Lifetime.authCodeMs,
      );
    // Old codes are of no use to anyone: keep the table small.
    this.#db.prepare('DELETE FROM auth_codes WHERE expires_at < ?').run(now - Lifetime.authCodeMs);
    return code;
  }

  /**
   * Whose an unused, unexpired code is, without using it up; undefined for any other code. The
   * assistant reads it to notice consent given on another account than the one talking.
   */
  peek(code: string, clientId: string): { userId: string } | undefined {
    const row = this.#db
      .prepare(
        `SELECT user_id FROM auth_codes
         WHERE code_hash = ? AND client_id = ? AND used_at IS NULL AND expires_at > ?`,
      )
      .get(hashSecret(code), clientId, this.#clock.now()) as { user_id: string } | undefined;
    return row ? { userId: row.user_id } : undefined;
  }

  /**
   * Consumes a code for `clientId`: succeeds once, while unexpired, for the app it was issued to.
   * Atomic (one UPDATE), so two concurrent exchanges cannot both win.
   */
  consume(code: string, clientId: string): AuthCodeRecord | undefined {
    const now = this.#clock.now();
    const hash = hashSecret(code);
    const changed = this.#db
      .prepare(
        `UPDATE auth_codes SET used_at = ?
         WHERE code_hash = ? AND client_id = ? AND used_at IS NULL AND expires_at > ?`,
      )
      .run(now, hash, clientId, now).changes;
    if (changed !== 1) return undefined;
    const row = this.#db.prepare('SELECT * FROM auth_codes WHERE code_hash = ?').get(hash) as CodeRow;
    return {
      clientId: row.client_id,
      userId: row.user_id,
      scopes: readStringList(row.scopes),
      redirectUri: row.redirect_uri,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }
}
