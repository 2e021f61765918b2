/**
 * Regression (found by `npm run soak -- memory`): on the default `memory:` state store, EVENT dedup
 * claims and users' tokens share one bounded store. After 100 000 events within the dedup TTL the store
 * evicted the oldest written keys, user tokens included, and every skill call then answered with the
 * authorization card. Short-lived keys (TTL up to an hour) are now evicted before long-lived ones.
 */
import {
  MemoryStateStore,
  StateDedupStore,
  StateTokenStore,
  type StoredUserToken,
  silentLogger,
} from '@dingtalk-skills/sdk';
import { describe, expect, it } from 'vitest';

const DAY = 86_400_000;
const token = (unionId: string): StoredUserToken => ({
  unionId,
  accessToken: 'a'.repeat(32),
  refreshToken: 'r'.repeat(32),
  expiresAt: Date.now() + 7_200_000,
  updatedAt: Date.now(),
});

describe('a full memory state store', () => {
  it('keeps users’ tokens while a flood of dedup claims is evicted, oldest claims first', async () => {
    const store = new MemoryStateStore({ logger: silentLogger(), maxEntries: 1_000 });
    const tokens = new StateTokenStore({ store, logger: silentLogger() });
    const dedup = new StateDedupStore(store, { namespace: 'dedup:app' });
    await tokens.set('union-zhangsan', token('union-zhangsan'), 30 * DAY);
    await tokens.set('union-lisi', token('union-lisi'), 30 * DAY);
    for (let i = 0; i < 5_000; i++) expect(await dedup.begin(`evt-${i}`, 'o', 600_000)).toBe('claimed');

    expect(store.size).toBe(1_000);
    expect((await tokens.get('union-zhangsan'))?.accessToken).toBe('a'.repeat(32));
    expect((await tokens.get('union-lisi'))?.refreshToken).toBe('r'.repeat(32));
    // The newest claims are kept (a redelivery of a recent event is still recognized), the oldest are gone.
    expect(await dedup.begin('evt-4999', 'o2', 600_000)).toBe('in-progress');
    expect(await dedup.begin('evt-0', 'o2', 600_000)).toBe('claimed');
    await store.close();
  });

  it('still evicts long-lived keys when nothing short-lived is left', async () => {
    const store = new MemoryStateStore({ logger: silentLogger(), maxEntries: 2 });
    await store.set('t1', 'x', 30 * DAY);
    await store.set('t2', 'y', 30 * DAY);
    await store.set('t3', 'z');
    expect(store.size).toBe(2);
    expect(await store.get('t1')).toBeNull();
    expect(await store.get('t3')).toBe('z');
    await store.close();
  });
});
