import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCodedError, silentLogger } from '@dingtalk-skills/sdk';
import {
  MemoryStateStore,
  RedisStateStore,
  redactRedisUrl,
  SqliteStateStore,
} from '@dingtalk-skills/sdk/state';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureLogger, LogLevelNumber } from '../support/capture-logger.js';
import { startRedisServer } from '../support/redis-server.js';
import { expectBackToBaseline, resourceCounts } from '../support/resources.js';
import { eventually, StateKit, sleep } from './state-kit.js';

const kit = new StateKit();
afterAll(() => kit.closeAll());

describe('MemoryStateStore', () => {
  it('says once, at info, that it serves one process only', async () => {
    const logs = new CaptureLogger();
    const store = new MemoryStateStore({ logger: logs.logger });
    await store.set('a', '1');
    await store.setIfAbsent('b', '1');
    const lines = logs.find('one process');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe(LogLevelNumber.info);
    await store.close();
  });

  it('stays within maxEntries, evicting the oldest written keys with one warning', async () => {
    const logs = new CaptureLogger();
    const store = new MemoryStateStore({ logger: logs.logger, maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await store.set(k, k);
    expect(store.size).toBe(3);
    expect(await store.get('a')).toBeNull();
    expect(await store.get('b')).toBeNull();
    expect(await store.get('e')).toBe('e');
    expect(logs.find('evicting')).toHaveLength(1);
    await store.close();
  });

  it('evicts expired keys before live ones', async () => {
    const logs = new CaptureLogger();
    const store = new MemoryStateStore({ logger: logs.logger, maxEntries: 2 });
    await store.set('old', 'x', 20);
    await store.set('live', 'y');
    await eventually(async () => (await store.get('old')) === null, 1_000, 'expiry');
    await store.set('again', 'x', 20);
    await sleep(40);
    await store.set('new', 'z');
    expect(await store.get('live')).toBe('y');
    expect(await store.get('new')).toBe('z');
    expect(logs.find('evicting')).toHaveLength(0);
    await store.close();
  });

  it('sweeps expired keys on its timer, which close() clears', async () => {
    const baseline = resourceCounts();
    const store = new MemoryStateStore({ logger: silentLogger(), sweepIntervalMs: 20 });
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, 'v', 10);
    await store.set('forever', 'v');
    expect(store.size).toBe(11);
    await eventually(async () => store.size === 1, 2_000, 'the sweep');
    await store.close();
    await expectBackToBaseline(baseline);
  });
});

describe('SqliteStateStore', () => {
  it('uses WAL, keeps an expiry column, and deletes expired rows when swept', async () => {
    const path = join(kit.dir, 'sweep.db');
    const store = new SqliteStateStore({ path, logger: silentLogger(), prefix: 'p:' });
    await store.set('ttl', 'v', 10);
    await store.set('forever', 'v');
    await sleep(30);
    expect(store.sweepExpired()).toBe(1);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const rows = raw.prepare('SELECT key, value, expires_at FROM dingtalk_state').all();
      expect(rows).toEqual([{ key: 'p:forever', value: 'v', expires_at: null }]);
    } finally {
      raw.close();
    }
    await store.close();
  });

  it('creates the folder of a new file; an unusable path fails with ERR_CONFIG', async () => {
    const path = join(kit.dir, 'nested', 'deeper', 'state.db');
    const store = new SqliteStateStore({ path, logger: silentLogger() });
    await store.set('k', 'v');
    await store.close();
    expect(readFileSync(path).subarray(0, 15).toString()).toBe('SQLite format 3');
    const blocker = join(kit.dir, 'a-file');
    new SqliteStateStore({ path: blocker, logger: silentLogger() }).close();
    let err: unknown;
    try {
      new SqliteStateStore({ path: join(blocker, 'inside.db'), logger: silentLogger() });
    } catch (e) {
      err = e;
    }
    expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
  });

  it('releases its sweep timer on close', async () => {
    const baseline = resourceCounts();
    const store = new SqliteStateStore({
      path: join(kit.dir, 'timer.db'),
      logger: silentLogger(),
      sweepIntervalMs: 10,
    });
    await store.set('k', 'v', 5);
    await store.close();
    await expectBackToBaseline(baseline);
  });
});

describe('RedisStateStore', () => {
  it('writes keys under its prefix with Redis TTLs (PX), visible to a plain client', async () => {
    const url = await kit.redisUrl();
    const store = new RedisStateStore({ url, logger: silentLogger(), prefix: 'raw-check:' });
    await store.connect();
    await store.set('ttl', 'v', 5_000);
    await store.set('forever', 'w');
    await store.incrWithTtl('count', 5_000);
    const raw = new Redis(url);
    try {
      expect(await raw.get('raw-check:forever')).toBe('w');
      const pttl = await raw.pttl('raw-check:ttl');
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(5_000);
      expect(await raw.pttl('raw-check:forever')).toBe(-1);
      expect(await raw.pttl('raw-check:count')).toBeGreaterThan(0);
      // The scripts survive SCRIPT FLUSH (sent again when the server forgot them).
      await raw.script('FLUSH');
      expect(await store.compareAndSwap('forever', 'w', 'x')).toBe(true);
      expect(await store.incrWithTtl('count', 5_000)).toBe(2);
    } finally {
      raw.disconnect();
      await store.close();
    }
  });

  it('an unreachable server fails connect() with ERR_STATE, without the password in the message', async () => {
    const store = new RedisStateStore({
      url: 'redis://:hunter2secret@127.0.0.1:1',
      logger: silentLogger(),
      redisOptions: { retryStrategy: () => null },
    });
    const err = await store.connect().catch((e: unknown) => e);
    expect(isCodedError(err, 'ERR_STATE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).not.toContain('hunter2secret');
    await store.close();
  });

  it('a server that goes away: commands fail with ERR_STATE, logged once as a warning', async () => {
    const server = await startRedisServer();
    const logs = new CaptureLogger();
    const store = new RedisStateStore({
      url: server.url,
      logger: logs.logger,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    await store.connect();
    await store.set('k', 'v');
    await server.stop();
    const err = await store.get('k').catch((e: unknown) => e);
    expect(isCodedError(err, 'ERR_STATE')).toBe(true);
    await eventually(async () => logs.find('connection error').length > 0, 5_000, 'the warning');
    await sleep(300);
    expect(logs.find('connection error')).toHaveLength(1);
    await store.close();
  });

  it('redactRedisUrl hides the password', () => {
    expect(redactRedisUrl('redis://user:pw12345@h:6379/2')).toBe('redis://user:***@h:6379/2');
    expect(redactRedisUrl('rediss://h:6380')).toBe('rediss://h:6380');
  });
});
