import type { PlatformDb } from '../db/open.js';

export type TokenGrantType = 'authorization_code' | 'refresh_token';

/** Per app and user: how many code exchanges and refreshes succeeded or failed. */
export interface TokenStatsRow {
  clientId: string;
  /** Empty when a failed call could not be tied to a user (unknown code or refresh token). */
  userId: string;
  authorizationCode: number;
  refreshToken: number;
  authorizationCodeFailed: number;
  refreshTokenFailed: number;
}

export interface TokenStats {
  totals: {
    authorizationCode: number;
    refreshToken: number;
    authorizationCodeFailed: number;
    refreshTokenFailed: number;
  };
  byAppUser: TokenStatsRow[];
}

/** Counters of calls to `/v1.0/oauth2/userAccessToken`, for tests ("exactly one refresh"). */
export class TokenStatsRepo {
  readonly #db: PlatformDb;
  constructor(db: PlatformDb) {
    this.#db = db;
  }

  count(clientId: string, userId: string, grantType: TokenGrantType, outcome: 'ok' | 'failed'): void {
    this.#db
      .prepare(
        `INSERT INTO token_stats (client_id, user_id, grant_type, outcome, count) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (client_id, user_id, grant_type, outcome) DO UPDATE SET count = count + 1`,
      )
      .run(clientId, userId, grantType, outcome);
  }

  read(filter: { clientId?: string; userId?: string } = {}): TokenStats {
    const rows = this.#db
      .prepare(
        `SELECT client_id, user_id, grant_type, outcome, count FROM token_stats
         WHERE (@clientId IS NULL OR client_id = @clientId) AND (@userId IS NULL OR user_id = @userId)
         ORDER BY client_id, user_id`,
      )
      .all({ clientId: filter.clientId ?? null, userId: filter.userId ?? null }) as Array<{
      client_id: string;
      user_id: string;
      grant_type: TokenGrantType;
      outcome: 'ok' | 'failed';
      count: number;
    }>;
    const byKey = new Map<string, TokenStatsRow>();
    const totals = {
      authorizationCode: 0,
      refreshToken: 0,
      authorizationCodeFailed: 0,
      refreshTokenFailed: 0,
    };
    for (const r of rows) {
      const key = `${r.client_id}\u0000${r.user_id}`;
      let entry = byKey.get(key);
      if (!entry) {
        entry = {
          clientId: r.client_id,
          userId: r.user_id,
          authorizationCode: 0,
          refreshToken: 0,
          authorizationCodeFailed: 0,
          refreshTokenFailed: 0,
        };
        byKey.set(key, entry);
      }
      const field =
        r.grant_type === 'authorization_code'
          ? r.outcome === 'ok'
            ? 'authorizationCode'
            : 'authorizationCodeFailed'
          : r.outcome === 'ok'
            ? 'refreshToken'
            : 'refreshTokenFailed';
      entry[field] += r.count;
      totals[field] += r.count;
    }
    return { totals, byAppUser: [...byKey.values()] };
  }
}
