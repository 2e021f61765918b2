import type { PlatformDb } from '../db/open.js';

/** A person in the sandbox's organization. */
export interface PlatformUser {
  userId: string;
  unionId: string;
  corpId: string;
  name: string;
  nameEn: string;
  mobile: string;
  stateCode: string;
  email: string;
  /** Empty: the sandbox serves a generated avatar at `/sandbox/avatars/<userId>.svg`. */
  avatarUrl: string;
}

interface UserRow {
  user_id: string;
  union_id: string;
  corp_id: string;
  name: string;
  name_en: string;
  mobile: string;
  state_code: string;
  email: string;
  avatar_url: string;
}

const toUser = (r: UserRow): PlatformUser => ({
  userId: r.user_id,
  unionId: r.union_id,
  corpId: r.corp_id,
  name: r.name,
  nameEn: r.name_en,
  mobile: r.mobile,
  stateCode: r.state_code,
  email: r.email,
  avatarUrl: r.avatar_url,
});

/** Users and their organization. */
export class UsersRepo {
  readonly #db: PlatformDb;
  constructor(db: PlatformDb) {
    this.#db = db;
  }

  insertIfMissing(user: PlatformUser): void {
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO users
           (user_id, union_id, corp_id, name, name_en, mobile, state_code, email, avatar_url)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        user.userId,
        user.unionId,
        user.corpId,
        user.name,
        user.nameEn,
        user.mobile,
        user.stateCode,
        user.email,
        user.avatarUrl,
      );
  }

  insertCorpIfMissing(corpId: string, name: string): void {
    this.#db.prepare('INSERT OR IGNORE INTO corps (corp_id, name) VALUES (?, ?)').run(corpId, name);
  }

  corpName(corpId: string): string | undefined {
    const row = this.#db.prepare('SELECT name FROM corps WHERE corp_id = ?').get(corpId) as
      | { name: string }
      | undefined;
    return row?.name;
  }

  list(): PlatformUser[] {
    return (this.#db.prepare('SELECT * FROM users ORDER BY rowid').all() as UserRow[]).map(toUser);
  }

  byUserId(userId: string): PlatformUser | undefined {
    const row = this.#db.prepare('SELECT * FROM users WHERE user_id = ?').get(userId) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  byUnionId(unionId: string): PlatformUser | undefined {
    const row = this.#db.prepare('SELECT * FROM users WHERE union_id = ?').get(unionId) as
      | UserRow
      | undefined;
    return row ? toUser(row) : undefined;
  }
}
