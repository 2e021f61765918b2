import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { GuardedStateStore, type StateStoreObserver } from './guarded-state-store.js';
import { MemoryStateStore } from './memory-state-store.js';
import { RedisStateStore, redactRedisUrl } from './redis-state-store.js';
import { SqliteStateStore } from './sqlite-state-store.js';
import type { StateStore, StateStoreKind } from './state-store.js';

/** Options of {@link createStateStore}. */
export interface CreateStateStoreOptions {
  logger: Logger;
  /** Key prefix (default `dingtalk-skills:`). */
  prefix?: string;
  /**
   * Bound on every call of a SQLite or Redis store (default 1 000 ms; also Redis's command timeout): a
   * store that stops answering fails the call with ERR_STATE instead of hanging it.
   */
  timeoutMs?: number;
  /**
   * Circuit breaker of a SQLite or Redis store: after `failureThreshold` failures in a row (default 3)
   * calls fail at once, and one call every `openMs` (default 1 000 ms) probes the store.
   */
  circuit?: { failureThreshold?: number; openMs?: number };
  /** Told about failures and outages (e.g. the Prometheus `Metrics`). */
  observer?: StateStoreObserver;
}

/** What a state store URL says, before anything is opened. */
export type StateStoreLocation =
  | { kind: Extract<StateStoreKind, 'memory'> }
  | { kind: Extract<StateStoreKind, 'sqlite'>; path: string }
  | { kind: Extract<StateStoreKind, 'redis'>; url: string };

const EXPECTED = 'expected memory:, sqlite:<path>, redis://host[:port][/db] or rediss://host[:port][/db]';

function configError(url: string, why: string): DingTalkSkillsError {
  const shown = /^rediss?:/i.test(url) ? redactRedisUrl(url) : url;
  return new DingTalkSkillsError(ErrorCode.Config, `state store URL "${shown}": ${why}`);
}

/**
 * Reads a state store URL (the CLI's `DINGTALK_STATE`): `memory:`, `sqlite:<path>` (also
 * `sqlite://<path>`, so `sqlite:///var/lib/app/state.db` is an absolute path; `sqlite::memory:` for
 * tests), `redis://...` or `rediss://...`. Anything else fails with ERR_CONFIG.
 */
export function parseStateStoreUrl(url: string): StateStoreLocation {
  if (typeof url !== 'string' || url.trim() === '')
    throw new DingTalkSkillsError(ErrorCode.Config, `state store URL is empty: ${EXPECTED}`);
  const text = url.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory':
      if (!/^memory:(\/\/)?$/i.test(text))
        throw configError(text, `memory: takes nothing after it; ${EXPECTED}`);
      return { kind: 'memory' };
    case 'sqlite': {
      let path = text.slice('sqlite:'.length);
      if (path.startsWith('//')) path = path.slice(2);
      if (path === '') throw configError(text, 'sqlite: needs a file path, e.g. sqlite:./data/state.db');
      if (path.includes('\0')) throw configError(text, 'the path contains a NUL byte');
      return { kind: 'sqlite', path };
    }
    case 'redis':
    case 'rediss': {
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch (cause) {
        throw new DingTalkSkillsError(
          ErrorCode.Config,
          `state store URL "${redactRedisUrl(text)}" is not a valid URL`,
          {
            cause,
          },
        );
      }
      if (parsed.hostname === '')
        throw configError(text, 'a redis URL needs a host, e.g. redis://127.0.0.1:6379');
      const db = parsed.pathname.replace(/^\//, '');
      if (db !== '' && !/^\d+$/.test(db))
        throw configError(text, `the path of a redis URL is a database number, got "/${db}"`);
      return { kind: 'redis', url: text };
    }
    default:
      throw configError(text, `unsupported kind of store; ${EXPECTED}`);
  }
}

/**
 * Opens the state store a URL names (see {@link parseStateStoreUrl}). A Redis store is connected and
 * PINGed before it is returned, so a wrong address fails here (ERR_STATE) rather than on first use.
 * SQLite and Redis stores come wrapped in a {@link GuardedStateStore}: every call bounded, a circuit
 * breaker, outages logged, counted and reported for readiness. The library never reads the
 * environment: the CLI passes `DINGTALK_STATE`.
 */
export async function createStateStore(url: string, options: CreateStateStoreOptions): Promise<StateStore> {
  const where = parseStateStoreUrl(url);
  const base = {
    logger: options.logger,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  };
  const timeoutMs = options.timeoutMs ?? 1_000;
  const guard = (store: StateStore) =>
    new GuardedStateStore(store, {
      logger: options.logger,
      timeoutMs,
      observer: options.observer,
      ...options.circuit,
    });
  switch (where.kind) {
    case 'memory':
      return new MemoryStateStore(base);
    case 'sqlite':
      return guard(new SqliteStateStore({ ...base, path: where.path }));
    case 'redis': {
      const store = new RedisStateStore({ ...base, url: where.url, commandTimeoutMs: timeoutMs });
      try {
        await store.connect();
      } catch (err) {
        await store.close();
        throw err;
      }
      return guard(store);
    }
  }
}
