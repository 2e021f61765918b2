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
  cacheStatements(db);
  return db;
}

/**
 * Makes `db.prepare(sql)` return one compiled statement per SQL text: the repositories prepare their
 * statements where they use them, and compiling on every OpenAPI request cost more than running them.
 * Safe because the repositories only `run`/`get`/`all` (never hold an `iterate()` open across calls),
 * and bounded because every SQL text is a constant or one of a few fixed variants.
 */
function cacheStatements(db: PlatformDb): void {
  const compile = db.prepare.bind(db);
  const compiled = new Map<string, ReturnType<typeof compile>>();
  db.prepare = ((sql: string) => {
    let statement = compiled.get(sql);
    if (statement === undefined) {
      statement = compile(sql);
      compiled.set(sql, statement);
    }
    return statement;
  }) as PlatformDb['prepare'];
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
