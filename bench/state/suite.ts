/**
 * The state suite: operations per second of the state-backed adapters on each store (memory, SQLite,
 * Redis): EVENT dedup claims, and user-token writes and reads (AES-256-GCM sealing included). Runs in
 * the bench process against a real SQLite file in a temp folder and a real redis-server on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TokenCipher } from '../../packages/sdk/src/credentials/token-cipher.js';
import type { StoredUserToken } from '../../packages/sdk/src/credentials/token-store.js';
import { silentLogger } from '../../packages/sdk/src/logging/index.js';
import {
  MemoryStateStore,
  RedisStateStore,
  SqliteStateStore,
  StateDedupStore,
  type StateStore,
  type StateStoreKind,
  StateTokenStore,
} from '../../packages/sdk/src/state/index.js';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import { withDefaults } from '../shared/options.js';
import { median } from '../shared/stats.js';
import type { BenchRow, Suite, SuiteContext } from '../suite.js';
import { streamEventRows } from './stream-event.js';

/** Ops per measured case, warm-up ops, rounds (median reported), operations in flight. */
const DEFAULTS = { messages: 20_000, warmup: 2_000, rounds: 3, window: 16 };
/** No case runs longer than this, whatever --messages says. */
const MAX_CASE_MS = 10_000;
const STORES: readonly StateStoreKind[] = ['memory', 'sqlite', 'redis'];
type Op = 'dedup' | 'token-set' | 'token-get';
const OPS: readonly Op[] = ['dedup', 'token-set', 'token-get'];
/** Distinct users whose tokens are written and read. */
const USERS = 1_000;

function token(i: number): StoredUserToken {
  return {
    unionId: `union-${i}`,
    accessToken: `access-${i}-${'x'.repeat(24)}`,
    refreshToken: `refresh-${i}-${'y'.repeat(24)}`,
    expiresAt: Date.now() + 7_200_000,
    corpId: 'dingsandboxcorp',
    updatedAt: Date.now(),
  };
}

/** Runs `op(i)` for i = 0..n-1 with `concurrency` in flight, bounded by MAX_CASE_MS; returns ops per second. */
async function throughput(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const deadline = started + MAX_CASE_MS;
  const worker = async () => {
    while (next < n && performance.now() < deadline) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return (next * 1000) / (performance.now() - started);
}

class Stores {
  readonly dir = mkdtempSync(join(tmpdir(), 'dtk-bench-state-'));
  #redis: RedisServerHandle | undefined;
  #n = 0;

  /** A fresh, empty store of `kind` (its own prefix or file). */
  /** The bench's redis-server (started on first use). */
  async redisUrl(): Promise<string> {
    this.#redis ??= await startRedisServer();
    return this.#redis.url;
  }

  async open(kind: StateStoreKind): Promise<StateStore> {
    const prefix = `bench-${process.pid}-${++this.#n}:`;
    const logger = silentLogger();
    if (kind === 'memory') return new MemoryStateStore({ logger, prefix, maxEntries: 1_000_000 });
    if (kind === 'sqlite')
      return new SqliteStateStore({ logger, prefix, path: join(this.dir, `${this.#n}.db`) });
    this.#redis ??= await startRedisServer();
    const store = new RedisStateStore({ logger, prefix, url: this.#redis.url });
    await store.connect();
    return store;
  }

  async close(): Promise<void> {
    await this.#redis?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One measured round of `op` on a fresh store; the warm-up runs on the same store first. */
async function oneRound(
  stores: Stores,
  kind: StateStoreKind,
  op: Op,
  opts: typeof DEFAULTS,
): Promise<number> {
  const store = await stores.open(kind);
  try {
    const cipher = new TokenCipher(TokenCipher.generateKey());
    const tokens = new StateTokenStore({ store, cipher, logger: silentLogger() });
    const dedup = new StateDedupStore(store);
    let run: (i: number) => Promise<unknown>;
    if (op === 'dedup') run = (i) => dedup.begin(`evt-${i}`, 'bench', 60_000);
    else if (op === 'token-set') run = (i) => tokens.set(`user-${i % USERS}`, token(i % USERS), 3_600_000);
    else {
      for (let u = 0; u < USERS; u++) await tokens.set(`user-${u}`, token(u), 3_600_000);
      run = async (i) => {
        if ((await tokens.get(`user-${i % USERS}`)) === undefined)
          throw new Error(`token user-${i % USERS} missing`);
      };
    }
    // Warm-up ids are offset so the measured dedup claims are all first claims.
    await throughput(opts.warmup, opts.window, (i) => run(opts.messages + i));
    return await throughput(opts.messages, opts.window, run);
  } finally {
    await store.close();
  }
}

export const stateSuite: Suite = {
  name: 'state',
  description:
    'dedup and token-store operations per second on memory, SQLite and Redis; CPU per Stream EVENT with Redis vs memory dedup',
  async run(ctx: SuiteContext): Promise<void> {
    const opts = withDefaults(ctx.options, DEFAULTS);
    const wanted = ctx.options.clients?.filter((c): c is StateStoreKind => (STORES as string[]).includes(c));
    const kinds = wanted && wanted.length > 0 ? wanted : STORES;
    const stores = new Stores();
    try {
      for (const kind of kinds) {
        for (const op of OPS) {
          const samples: number[] = [];
          for (let r = 0; r < opts.rounds; r++) samples.push(await oneRound(stores, kind, op, opts));
          const row: BenchRow = {
            suite: 'state',
            store: kind,
            op,
            ops_per_s: Math.round(median(samples)),
            concurrency: opts.window,
            ops: opts.messages,
            rounds: opts.rounds,
          };
          ctx.log(
            `state ${kind} ${op}: ${row.ops_per_s} ops/s (rounds: ${samples.map(Math.round).join(', ')})`,
          );
          ctx.emit(row);
        }
      }
      // What Redis dedup costs ours per Stream EVENT (child process CPU), next to the in-memory default.
      const eventKinds = kinds.filter((k): k is 'memory' | 'redis' => k === 'memory' || k === 'redis');
      await streamEventRows(ctx, opts, eventKinds, () => stores.redisUrl());
    } finally {
      await stores.close();
    }
  },
};
