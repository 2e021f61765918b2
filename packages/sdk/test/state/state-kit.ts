import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, type StateStore, silentLogger } from '@dingtalk-skills/sdk';
import {
  MemoryStateStore,
  RedisStateStore,
  SqliteStateStore,
  type StateStoreKind,
} from '@dingtalk-skills/sdk/state';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';

/** One place where state lives (a memory store, a SQLite file, a Redis prefix) that several store instances can open. */
export interface Backing {
  kind: StateStoreKind;
  /** The state store URL of this backing (memory: is per process). */
  url: string;
  prefix: string;
  /** Opens a store on this backing: for SQLite and Redis a new connection, for memory the one shared instance. */
  open(logger?: Logger): Promise<StateStore>;
}

export const ALL_KINDS: StateStoreKind[] = ['memory', 'sqlite', 'redis'];
export const SHARED_KINDS: StateStoreKind[] = ['sqlite', 'redis'];

/**
 * Test resources for the state stores: a temp folder for SQLite files and one real redis-server per
 * test file (started on first use). Every backing gets a fresh file or key prefix, so tests do not see
 * each other's keys. `closeAll` closes every store opened and stops Redis.
 */
export class StateKit {
  readonly dir = mkdtempSync(join(tmpdir(), 'dtk-state-'));
  #redis: RedisServerHandle | undefined;
  readonly #opened: StateStore[] = [];

  async redisUrl(): Promise<string> {
    this.#redis ??= await startRedisServer();
    return this.#redis.url;
  }

  async backing(kind: StateStoreKind): Promise<Backing> {
    const id = randomUUID().slice(0, 8);
    const prefix = `test-${id}:`;
    const track = <S extends StateStore>(s: S): S => {
      this.#opened.push(s);
      return s;
    };
    switch (kind) {
      case 'memory': {
        let shared: MemoryStateStore | undefined;
        return {
          kind,
          url: 'memory:',
          prefix,
          open: async (logger = silentLogger()) => {
            shared ??= track(new MemoryStateStore({ logger, prefix }));
            return shared;
          },
        };
      }
      case 'sqlite': {
        const path = join(this.dir, `${id}.db`);
        return {
          kind,
          url: `sqlite:${path}`,
          prefix,
          open: async (logger = silentLogger()) => track(new SqliteStateStore({ path, logger, prefix })),
        };
      }
      case 'redis': {
        const url = await this.redisUrl();
        return {
          kind,
          url,
          prefix,
          open: async (logger = silentLogger()) => {
            const store = track(new RedisStateStore({ url, logger, prefix }));
            await store.connect();
            return store;
          },
        };
      }
    }
  }

  /** Closes the stores opened so far (between tests). */
  async closeStores(): Promise<void> {
    await Promise.all(this.#opened.splice(0).map((s) => s.close()));
  }

  async closeAll(): Promise<void> {
    await this.closeStores();
    await this.#redis?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` every 10 ms until it returns true, bounded; for TTL expiry. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
