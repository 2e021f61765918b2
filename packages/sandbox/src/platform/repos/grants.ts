import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { readStringList } from '../json-column.js';
import { unionScopes } from '../scopes.js';

/** What one user has consented to for one app. */
export interface Grant {
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
  /** Set when the user (or the control API) revoked the consent; tokens stop working. */
  revokedAt: number | null;
}

interface GrantRow {
  user_id: string;
  client_id: string;
  scopes: string;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
}

const toGrant = (r: GrantRow): Grant => ({
  userId: r.user_id,
  clientId: r.client_id,
  scopes: readStringList(r.scopes),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  revokedAt: r.revoked_at,
});

/** Grants: user x app -> consented scopes. */
export class GrantsRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  get(userId: string, clientId: string): Grant | undefined {
    const row = this.#db
      .prepare('SELECT * FROM grants WHERE user_id = ? AND client_id = ?')
      .get(userId, clientId) as GrantRow | undefined;
    return row ? toGrant(row) : undefined;
  }

  list(filter: { userId?: string; clientId?: string } = {}): Grant[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM grants WHERE (@userId IS NULL OR user_id = @userId)
           AND (@clientId IS NULL OR client_id = @clientId) ORDER BY created_at, user_id, client_id`,
      )
      .all({ userId: filter.userId ?? null, clientId: filter.clientId ?? null }) as GrantRow[];
    return rows.map(toGrant);
  }

  /**
   * Records a consent. An active grant gains the new scopes (union with what was granted); a revoked
   * or missing grant starts over with exactly `scopes`.
   */
  consent(userId: string, clientId: string, scopes: readonly string[]): Grant {
    const now = this.#clock.now();
    const existing = this.get(userId, clientId);
    if (existing && existing.revokedAt === null) {
      const merged = unionScopes(existing.scopes, scopes);
      this.#db
        .prepare('UPDATE grants SET scopes = ?, updated_at = ? WHERE user_id = ? AND client_id = ?')
        .run(JSON.stringify(merged), now, userId, clientId);
    } else {
      this.#db
        .prepare(
          `INSERT INTO grants (user_id, client_id, scopes, created_at, updated_at, revoked_at)
           VALUES (?, ?, ?, ?, ?, NULL)
           ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,
             created_at = excluded.created_at, updated_at = excluded.updated_at, revoked_at = NULL`,
        )
        .run(userId, clientId, JSON.stringify([...scopes]), now, now);
    }
    return this.get(userId, clientId)!;
  }

  /** Marks the grant revoked. Returns the grant, or undefined if there was none. */
  revoke(userId: string, clientId: string): Grant | undefined {
    const now = this.#clock.now();
    this.#db
      .prepare(
        `UPDATE grants SET revoked_at = ?, updated_at = ?
         WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL`,
      )
      .run(now, now, userId, clientId);
    return this.get(userId, clientId);
  }

  /** Removes one scope from an active grant. Returns the grant, or undefined if there was none. */
  removeScope(userId: string, clientId: string, scope: string): Grant | undefined {
    const existing = this.get(userId, clientId);
    if (!existing) return undefined;
    const scopes = existing.scopes.filter((s) => s !== scope);
    this.#db
      .prepare('UPDATE grants SET scopes = ?, updated_at = ? WHERE user_id = ? AND client_id = ?')
      .run(JSON.stringify(scopes), this.#clock.now(), userId, clientId);
    return this.get(userId, clientId);
  }
}
