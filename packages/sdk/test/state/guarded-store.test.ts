/**
 * The bounded, circuit-broken state store (issue 11 #3) on a real redis-server frozen with SIGSTOP:
 * calls time out instead of hanging, the circuit opens after three failures and then fails at once,
 * readiness reports the outage, one probe a period closes it again after SIGCONT.
 */

import { isCodedError } from '@dingtalk-skills/sdk';
import { createStateStore, GuardedStateStore, type StateFailureReason } from '@dingtalk-skills/sdk/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../support/capture-logger.js';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';

let redis: RedisServerHandle;
let frozen = false;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  if (frozen) process.kill(redis.pid, 'SIGCONT');
  await redis?.stop();
});

const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('GuardedStateStore on a frozen Redis', () => {
  it('times out, opens the circuit, fails fast, reports unhealthy, and closes once Redis answers', async () => {
    const logs = new CaptureLogger();
    const failures: Array<[string, StateFailureReason]> = [];
    const health: boolean[] = [];
    const store = await createStateStore(redis.url, {
      logger: logs.logger,
      prefix: 'guarded:',
      timeoutMs: 300,
      circuit: { failureThreshold: 3, openMs: 400 },
      observer: {
        stateStoreFailed: (op, reason) => failures.push([op, reason]),
        stateStoreHealth: (h) => health.push(h),
      },
    });
    try {
      expect(store).toBeInstanceOf(GuardedStateStore);
      const guarded = store as GuardedStateStore;
      await store.set('k', 'v');
      expect((await guarded.check()).healthy).toBe(true);

      process.kill(redis.pid, 'SIGSTOP');
      frozen = true;
      // Three calls time out (each bounded, none hangs)...
      const timedOut = await Promise.all([
        caught(store.get('k')),
        caught(store.setIfAbsent('a', '1', 1000)),
        caught(store.delete('b')),
      ]);
      for (const err of timedOut) {
        expect(isCodedError(err, 'ERR_STATE')).toBe(true);
        expect((err as Error).message).toMatch(/timed out/);
      }
      // ...then the circuit is open: the next call fails at once, without waiting for Redis.
      const fast = await caught(store.get('k'));
      expect((fast as Error).message).toMatch(/failing fast/);
      expect(guarded.health()).toMatchObject({ healthy: false });
      expect((await guarded.check()).healthy).toBe(false);
      expect(failures.filter(([, r]) => r === 'timeout')).toHaveLength(3);
      expect(failures.some(([, r]) => r === 'circuit_open')).toBe(true);
      expect(health).toEqual([false]);
      expect(logs.find('circuit open')).toHaveLength(1);

      process.kill(redis.pid, 'SIGCONT');
      frozen = false;
      // After openMs one probe gets through; bounded wait for it.
      const deadline = Date.now() + 10_000;
      let report = await guarded.check();
      while (!report.healthy && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        report = await guarded.check();
      }
      expect(report.healthy).toBe(true);
      expect(await store.get('k')).toBe('v');
      expect(health).toEqual([false, true]);
      expect(logs.find('state store answers again')).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 30_000);

  it('a bad key is the caller mistake: a RangeError that does not count against the store', async () => {
    const store = (await createStateStore(redis.url, {
      logger: new CaptureLogger().logger,
      timeoutMs: 300,
      circuit: { failureThreshold: 1 },
    })) as GuardedStateStore;
    try {
      for (let i = 0; i < 3; i++) expect(await caught(store.get(''))).toBeInstanceOf(RangeError);
      expect(store.health().healthy).toBe(true);
      expect(await store.get('absent')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
