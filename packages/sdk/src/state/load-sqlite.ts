import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';

/** The better-sqlite3 constructor (a type; the package is loaded only when a SQLite store opens). */
type SqliteDatabaseConstructor = typeof BetterSqlite3;

const requireHere = createRequire(import.meta.url);
let loaded: SqliteDatabaseConstructor | undefined;

/**
 * Loads better-sqlite3 on first use. It is an optional peer dependency of the SDK (a native module):
 * apps on `memory:` or Redis state never load it, so they need no native build. When it is missing the
 * error says what to install; any other load failure (a broken native build) keeps its cause.
 */
export function loadSqlite(what: string): SqliteDatabaseConstructor {
  if (loaded) return loaded;
  try {
    loaded = requireHere('better-sqlite3') as SqliteDatabaseConstructor;
    return loaded;
  } catch (cause) {
    const missing =
      (cause as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
      /better-sqlite3/.test((cause as Error).message) &&
      !/better_sqlite3\.node|bindings/.test((cause as Error).message);
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      missing
        ? `${what} needs the optional package better-sqlite3: run \`npm install better-sqlite3\` in your app (or use memory: or redis:// state)`
        : `${what}: better-sqlite3 failed to load: ${(cause as Error).message}`,
      { cause },
    );
  }
}
