import { isCodedError, type StateStore, silentLogger } from '@dingtalk-skills/sdk';
import { RedisStateStore, SqliteStateStore } from '@dingtalk-skills/sdk/state';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ALL_KINDS, type Backing, eventually, SHARED_KINDS, StateKit, sleep } from './state-kit.js';

const kit = new StateKit();
afterEach(() => kit.closeStores());
afterAll(() => kit.closeAll());

/** Two stores on one backing: two connections for SQLite and Redis, the same instance for memory. */
async function two(kind: Backing['kind']): Promise<[StateStore, StateStore, Backing]> {
  const b = await kit.backing(kind);
  return [await b.open(), await b.open(), b];
}

/** Short TTL: long enough that a loaded machine does not expire a key between two awaited calls. */
const SHORT = 250;

const gone = (store: StateStore, key: string) => async () => (await store.get(key)) === null;

describe.each(ALL_KINDS)('%s state store (shared contract)', (kind) => {
  it('gets what was set, replaces it, deletes it', async () => {
    const [s] = await two(kind);
    expect(s.kind).toBe(kind);
    expect(await s.get('k')).toBeNull();
    await s.set('k', 'one');
    expect(await s.get('k')).toBe('one');
    await s.set('k', 'two');
    expect(await s.get('k')).toBe('two');
    expect(await s.delete('k')).toBe(true);
    expect(await s.get('k')).toBeNull();
    expect(await s.delete('k')).toBe(false);
    await s.set('unicode', '张三 ✓ "quoted" \n line');
    expect(await s.get('unicode')).toBe('张三 ✓ "quoted" \n line');
    await s.set('empty', '');
    expect(await s.get('empty')).toBe('');
  });

  it('expires a key after its TTL, and set without a TTL clears an earlier one', async () => {
    const [s] = await two(kind);
    await s.set('short', 'v', SHORT);
    await s.set('cleared', 'v', SHORT);
    await s.set('cleared', 'w');
    expect(await s.get('short')).toBe('v');
    await eventually(gone(s, 'short'), 5_000, 'the TTL to pass');
    expect(await s.delete('short')).toBe(false);
    expect(await s.get('cleared')).toBe('w');
  });

  it('setIfAbsent stores only when absent or expired', async () => {
    const [s] = await two(kind);
    expect(await s.setIfAbsent('claim', 'a', SHORT)).toBe(true);
    expect(await s.setIfAbsent('claim', 'b', SHORT)).toBe(false);
    expect(await s.get('claim')).toBe('a');
    await eventually(gone(s, 'claim'), 5_000, 'the claim to expire');
    expect(await s.setIfAbsent('claim', 'c')).toBe(true);
    expect(await s.get('claim')).toBe('c');
    expect(await s.setIfAbsent('claim', 'd')).toBe(false);
  });

  it('50 concurrent setIfAbsent claims (over two connections): exactly one wins', async () => {
    const [a, b] = await two(kind);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).setIfAbsent('race', `c${i}`, 10_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await a.get('race')).toBe(`c${winner}`);
  });

  it('compareAndSwap replaces only the expected value; null means absent, or delete', async () => {
    const [s] = await two(kind);
    expect(await s.compareAndSwap('cas', 'x', 'y')).toBe(false);
    expect(await s.get('cas')).toBeNull();
    expect(await s.compareAndSwap('cas', null, 'v1')).toBe(true);
    expect(await s.compareAndSwap('cas', null, 'v2')).toBe(false);
    expect(await s.compareAndSwap('cas', 'wrong', 'v2')).toBe(false);
    expect(await s.get('cas')).toBe('v1');
    expect(await s.compareAndSwap('cas', 'v1', 'v2')).toBe(true);
    expect(await s.get('cas')).toBe('v2');
    expect(await s.compareAndSwap('cas', 'v1', null)).toBe(false);
    expect(await s.compareAndSwap('cas', 'v2', null)).toBe(true);
    expect(await s.get('cas')).toBeNull();
    expect(await s.compareAndSwap('cas', null, null)).toBe(true);
    expect(await s.get('cas')).toBeNull();
  });

  it('compareAndSwap treats an expired value as absent and sets the TTL it is given', async () => {
    const [s] = await two(kind);
    await s.set('lease', 'old', SHORT);
    await eventually(gone(s, 'lease'), 5_000, 'the lease to expire');
    expect(await s.compareAndSwap('lease', 'old', 'late')).toBe(false);
    expect(await s.compareAndSwap('lease', null, 'new', SHORT)).toBe(true);
    expect(await s.get('lease')).toBe('new');
    await eventually(gone(s, 'lease'), 5_000, 'the swapped value to expire');
    await s.set('keep', 'a', SHORT);
    expect(await s.compareAndSwap('keep', 'a', 'b')).toBe(true);
    await sleep(SHORT + 100);
    expect(await s.get('keep')).toBe('b');
  });

  it('20 concurrent compareAndSwaps from the same read: exactly one wins', async () => {
    const [a, b] = await two(kind);
    await a.set('counter', '0');
    const seen = await a.get('counter');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).compareAndSwap('counter', seen, `w${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await b.get('counter')).toBe(`w${results.indexOf(true)}`);
  });

  it('incrWithTtl counts from 1, keeps the first expiry, starts again after it', async () => {
    const [s] = await two(kind);
    expect(await s.incrWithTtl('win', SHORT)).toBe(1);
    expect(await s.incrWithTtl('win', SHORT)).toBe(2);
    expect(await s.incrWithTtl('win', 60_000)).toBe(3);
    await eventually(gone(s, 'win'), 5_000, 'the window to expire');
    expect(await s.incrWithTtl('win', 60_000)).toBe(1);
    await s.set('plain', '7');
    expect(await s.incrWithTtl('plain', SHORT)).toBe(8);
    await eventually(gone(s, 'plain'), 5_000, 'a counter set without TTL to get the incr TTL');
  });

  it('50 concurrent increments (over two connections) hand out 1..50 once each', async () => {
    const [a, b] = await two(kind);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).incrWithTtl('n', 10_000)),
    );
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('incrWithTtl on a value that is not an integer fails with ERR_STATE and leaves it', async () => {
    const [s] = await two(kind);
    await s.set('text', 'hello');
    const err = await s.incrWithTtl('text', 1000).catch((e: unknown) => e);
    expect(isCodedError(err, 'ERR_STATE')).toBe(true);
    expect(await s.get('text')).toBe('hello');
  });

  it('rejects bad keys and TTLs with a RangeError', async () => {
    const [s] = await two(kind);
    await expect(s.set('', 'v')).rejects.toThrow(RangeError);
    await expect(s.set('k', 'v', 0)).rejects.toThrow(RangeError);
    await expect(s.setIfAbsent('k', 'v', -5)).rejects.toThrow(RangeError);
    await expect(s.set('k', 'v', Number.NaN)).rejects.toThrow(RangeError);
    await expect(s.incrWithTtl('k', Number.POSITIVE_INFINITY)).rejects.toThrow(RangeError);
    expect(await s.get('k')).toBeNull();
  });

  it('after close, every operation fails with ERR_STATE; close twice is fine', async () => {
    const [s] = await two(kind);
    await s.set('k', 'v');
    await s.close();
    await s.close();
    for (const op of [
      () => s.get('k'),
      () => s.set('k', 'v'),
      () => s.setIfAbsent('k', 'v'),
      () => s.compareAndSwap('k', null, 'v'),
      () => s.delete('k'),
      () => s.incrWithTtl('k', 100),
    ]) {
      const err = await op().catch((e: unknown) => e);
      expect(isCodedError(err, 'ERR_STATE')).toBe(true);
    }
  });
});

describe.each(SHARED_KINDS)('%s state store across connections', (kind) => {
  it("two connections see each other's writes, claims, swaps and counts", async () => {
    const [a, b] = await two(kind);
    expect(a).not.toBe(b);
    expect(await a.setIfAbsent('event-1', 'a', 10_000)).toBe(true);
    expect(await b.setIfAbsent('event-1', 'b', 10_000)).toBe(false);
    expect(await b.get('event-1')).toBe('a');
    expect(await b.compareAndSwap('event-1', 'a', 'b')).toBe(true);
    expect(await a.compareAndSwap('event-1', 'a', null)).toBe(false);
    expect(await a.get('event-1')).toBe('b');
    expect(await a.incrWithTtl('n', 10_000)).toBe(1);
    expect(await b.incrWithTtl('n', 10_000)).toBe(2);
    expect(await b.delete('event-1')).toBe(true);
    expect(await a.get('event-1')).toBeNull();
  });

  it('a second store reopened on the same backing still has the data (no expiry)', async () => {
    const b = await kit.backing(kind);
    const first = await b.open();
    await first.set('durable', 'yes');
    await first.close();
    const second = await b.open();
    expect(await second.get('durable')).toBe('yes');
  });

  it('stores with different prefixes on one backing do not see each other', async () => {
    const b = await kit.backing(kind);
    const a = await b.open();
    await a.set('k', 'from-a');
    const other = await kit.backing(kind);
    // Same file / server, another prefix.
    const c =
      kind === 'sqlite'
        ? new SqliteStateStore({
            path: b.url.slice('sqlite:'.length),
            logger: silentLogger(),
            prefix: other.prefix,
          })
        : new RedisStateStore({ url: b.url, logger: silentLogger(), prefix: other.prefix });
    try {
      expect(await c.get('k')).toBeNull();
      expect(await c.setIfAbsent('k', 'from-c')).toBe(true);
      expect(await a.get('k')).toBe('from-a');
    } finally {
      await c.close();
    }
  });
});
