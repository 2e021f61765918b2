import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { DingTalkSkillsError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import {
  checkKey,
  checkTtl,
  checkValue,
  DEFAULT_STATE_PREFIX,
  type StateStore,
  type StateStoreBaseOptions,
  stateError,
} from './state-store.js';

// ioredis (~19 MB of RSS with its dependencies) loads when the first Redis store is made, not when the SDK is
// imported: most apps never use Redis state.
const requireHere = createRequire(import.meta.url);
let RedisClient: typeof Redis | undefined;
function loadRedis(): typeof Redis {
  RedisClient ??= (requireHere('ioredis') as typeof import('ioredis')).Redis;
  return RedisClient;
}

/** Options of {@link RedisStateStore}. */
export interface RedisStateStoreOptions extends StateStoreBaseOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://...` (TLS). */
  url: string;
  logger: Logger;
  /**
   * Bound on every command (default 1 000 ms; ioredis `commandTimeout`): a server that stops answering
   * (frozen in a failover, a stuck network) fails the command with ERR_STATE instead of hanging it.
   */
  commandTimeoutMs?: number;
  /** Extra ioredis options, applied over this store's defaults. */
  redisOptions?: RedisOptions;
}

/**
 * CAS: ARGV[1] '1' when a value is expected ('0': the key must be absent), ARGV[2] that value,
 * ARGV[3] '1' to store ARGV[4] ('0': delete), ARGV[5] the TTL in ms ('' for none).
 */
const CAS_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return 1
`;

/** INCR, and give the key the TTL ARGV[1] (ms) when it has none (just created, or set without one). */
const INCR_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const CAS_SHA = sha1(CAS_SCRIPT);
const INCR_SHA = sha1(INCR_SCRIPT);

/** The URL with its password (if any) replaced, for logs and errors. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable redis url>';
  }
}

/**
 * State in Redis (ioredis): shared by every instance that uses the same server and prefix. Uses
 * `SET NX PX` to claim, small Lua scripts for compare-and-swap and for increment-with-expiry (run
 * by their SHA, loaded on first use), and Redis's own key expiry. Connection problems are logged
 * once per outage; a command that fails (after ioredis's reconnect attempts) fails with ERR_STATE.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  /** The server URL without its password. */
  readonly location: string;
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #logger: Logger;
  #closed = false;
  #healthy = true;
  /** The last connection error ioredis reported (its connect() rejection only says "closed"). */
  #lastError: string | undefined;

  constructor(options: RedisStateStoreOptions) {
    this.location = redactRedisUrl(options.url);
    this.#prefix = options.prefix ?? DEFAULT_STATE_PREFIX;
    this.#logger = options.logger.child({ component: 'state-store', store: 'redis', url: this.location });
    this.#client = new (loadRedis())(options.url, {
      lazyConnect: true,
      connectTimeout: 5_000,
      commandTimeout: options.commandTimeoutMs ?? 1_000,
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
      ...options.redisOptions,
    });
    this.#client.on('error', (err: Error) => {
      this.#lastError = err.message;
      if (!this.#healthy || this.#closed) return;
      this.#healthy = false;
      this.#logger.warn({ error: err.message }, 'Redis state store: connection error; reconnecting');
    });
    this.#client.on('ready', () => {
      if (this.#healthy) return;
      this.#healthy = true;
      this.#logger.info({}, 'Redis state store: connection restored');
    });
  }

  /** Connects and checks the server answers PING; fails with ERR_STATE when it cannot. */
  async connect(): Promise<void> {
    if (this.#closed) throw stateError('Redis state store: used after close()');
    try {
      if (this.#client.status === 'wait') await this.#client.connect();
      await this.#client.ping();
    } catch (err) {
      const why = this.#lastError ?? (err as Error).message;
      throw stateError(`Redis state store: cannot reach ${this.location}: ${why}`, err);
    }
    this.#logger.info({}, 'state is kept in Redis: shared by every instance using this server');
  }

  async get(key: string): Promise<string | null> {
    const k = this.#key(key);
    return this.#run('GET', () => this.#client.get(k));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const k = this.#key(key);
    checkValue(value);
    const ttl = checkTtl(ttlMs);
    await this.#run('SET', () =>
      ttl === undefined ? this.#client.set(k, value) : this.#client.set(k, value, 'PX', ttl),
    );
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const k = this.#key(key);
    checkValue(value);
    const ttl = checkTtl(ttlMs);
    const answer = await this.#run('SET NX', () =>
      ttl === undefined ? this.#client.set(k, value, 'NX') : this.#client.set(k, value, 'PX', ttl, 'NX'),
    );
    return answer === 'OK';
  }

  async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs?: number,
  ): Promise<boolean> {
    const k = this.#key(key);
    if (next !== null) checkValue(next);
    const ttl = checkTtl(ttlMs);
    const answer = await this.#script('CAS', CAS_SCRIPT, CAS_SHA, k, [
      expected === null ? '0' : '1',
      expected ?? '',
      next === null ? '0' : '1',
      next ?? '',
      ttl === undefined ? '' : String(ttl),
    ]);
    return answer === 1;
  }

  async delete(key: string): Promise<boolean> {
    const k = this.#key(key);
    return (await this.#run('DEL', () => this.#client.del(k))) > 0;
  }

  async incrWithTtl(key: string, ttlMs: number): Promise<number> {
    const k = this.#key(key);
    const ttl = checkTtl(ttlMs);
    if (ttl === undefined) throw new RangeError('state store: incrWithTtl needs a ttlMs');
    const n = await this.#script('INCR', INCR_SCRIPT, INCR_SHA, k, [String(ttl)]);
    if (typeof n !== 'number') throw stateError(`Redis state store: INCR answered ${typeof n}`);
    return n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#client.status === 'ready') {
      try {
        await this.#client.quit();
        return;
      } catch (err) {
        this.#logger.debug({ error: (err as Error).message }, 'Redis QUIT failed; disconnecting');
      }
    }
    this.#client.disconnect();
  }

  #key(key: string): string {
    if (this.#closed) throw stateError('Redis state store: used after close()');
    return this.#prefix + checkKey(key);
  }

  async #run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DingTalkSkillsError) throw err;
      throw stateError(`Redis state store: ${op} failed: ${(err as Error).message}`, err);
    }
  }

  /** Runs a Lua script by SHA, sending its body once when the server does not know it yet. */
  async #script(op: string, body: string, sha: string, key: string, args: string[]): Promise<unknown> {
    return this.#run(op, async () => {
      try {
        return await this.#client.evalsha(sha, 1, key, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return await this.#client.eval(body, 1, key, ...args);
      }
    });
  }
}
