import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';

/** The platform's database handle (better-sqlite3, synchronous). */
export type PlatformDb = Database.Database;

/**
 * Opens the platform's database: a SQLite file at `path`, or an in-memory database when `path` is
 * undefined (nothing touches the disk). Runs pending migrations.
 */
export function openPlatformDb(path: string | undefined): PlatformDb {
  const db = new Database(path ?? ':memory:');
  if (path !== undefined) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: PlatformDb): void {
  const current = db.pragma('user_version', { simple: true });
  const from = typeof current === 'number' ? current : 0;
  if (from > MIGRATIONS.length)
    throw new Error(
      `sandbox database schema version ${from} is newer than this sandbox knows (${MIGRATIONS.length})`,
    );
  for (let version = from; version < MIGRATIONS.length; version++) {
    const sql = MIGRATIONS[version]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
