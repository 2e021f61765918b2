import { isCodedError, type StateStore, silentLogger } from '@dingtalk-skills/sdk';
import { MemoryStateStore, StateRateLimiter } from '@dingtalk-skills/sdk/state';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../support/capture-logger.js';
import { ALL_KINDS, StateKit, sleep } from './state-kit.js';

const kit = new StateKit();
afterEach(() => kit.closeStores());
afterAll(() => kit.closeAll());

const WINDOW = 300;

/** Waits until the current window has just begun, so a burst of grants does not straddle an edge by accident. */
async function atWindowStart(): Promise<void> {
  while (Date.now() % WINDOW > 30) await sleep(Math.max(1, WINDOW - (Date.now() % WINDOW)));
}

/** Grants per window index, in order of first grant. */
function perWindow(times: number[]): number[] {
  const counts = new Map<number, number>();
  for (const t of [...times].sort((a, b) => a - b)) {
    const w = Math.floor(t / WINDOW);
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts.values()];
}

describe.each(ALL_KINDS)('StateRateLimiter on %s', (kind) => {
  it('two instances sharing the store let at most qps calls per window go, the rest in later windows', async () => {
    const b = await kit.backing(kind);
    const limiters = [
      new StateRateLimiter({ store: await b.open(), logger: silentLogger(), qps: 5, windowMs: WINDOW }),
      new StateRateLimiter({ store: await b.open(), logger: silentLogger(), qps: 5, windowMs: WINDOW }),
    ];
    await atWindowStart();
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (limiters[i % 2] as StateRateLimiter).acquire('POST /v1.0/todo/users/{unionId}/tasks').then(() => {
          granted.push(Date.now());
        }),
      ),
    );
    expect(granted).toHaveLength(12);
    expect(perWindow(granted)).toEqual([5, 5, 2]);
  });

  it('a sliding window: no 300 ms span ever holds more than qps starts, across instances and window edges', async () => {
    const b = await kit.backing(kind);
    const limiters = [
      new StateRateLimiter({ store: await b.open(), logger: silentLogger(), qps: 5, windowMs: WINDOW }),
      new StateRateLimiter({ store: await b.open(), logger: silentLogger(), qps: 5, windowMs: WINDOW }),
    ];
    // Start late in a fixed window: fixed windows would let 5 go now and 5 more right after the edge.
    while (Date.now() % WINDOW < 200) await sleep(5);
    const before = Date.now();
    const starts = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        (limiters[i % 2] as StateRateLimiter).reserve('GET /v1.0/contact/users/me'),
      ),
    );
    starts.sort((x, y) => x - y);
    // The 6th start after any start is at least a window later...
    for (let i = 0; i + 5 < starts.length; i++)
      expect(starts[i + 5]! - starts[i]!, `starts ${i} and ${i + 5}`).toBeGreaterThanOrEqual(WINDOW);
    // ...and no later than it must be: three turns of 5, a window apart (plus the time the swaps took).
    expect(starts[0]! - before).toBeLessThan(WINDOW);
    expect(starts[14]! - starts[0]!).toBeLessThan(3 * WINDOW);
    // acquire() waits for its reserved turn.
    const limiter = limiters[0] as StateRateLimiter;
    const next = Date.now();
    await limiter.acquire('GET /v1.0/contact/users/me');
    expect(Date.now()).toBeGreaterThanOrEqual(starts[10]! + WINDOW);
    expect(next).toBeLessThan(starts[10]! + WINDOW);
  });

  it('keeps budgets apart per API key and per scope (app)', async () => {
    const b = await kit.backing(kind);
    const store = await b.open();
    const app1 = new StateRateLimiter({
      store,
      logger: silentLogger(),
      qps: 2,
      windowMs: WINDOW,
      scope: 'app1',
    });
    const app2 = new StateRateLimiter({
      store,
      logger: silentLogger(),
      qps: 2,
      windowMs: WINDOW,
      scope: 'app2',
    });
    await atWindowStart();
    const granted: number[] = [];
    const mark = () => granted.push(Date.now());
    await Promise.all([
      app1.acquire('GET /a').then(mark),
      app1.acquire('GET /a').then(mark),
      app1.acquire('GET /b').then(mark),
      app1.acquire('GET /b').then(mark),
      app2.acquire('GET /a').then(mark),
      app2.acquire('GET /a').then(mark),
    ]);
    expect(perWindow(granted)).toEqual([6]);
  });

  it('fails with ERR_RATE_LIMITED when the next turn is later than maxWaitMs', async () => {
    const b = await kit.backing(kind);
    const limiter = new StateRateLimiter({
      store: await b.open(),
      logger: silentLogger(),
      qps: 1,
      windowMs: 60_000,
      maxWaitMs: 50,
    });
    await limiter.acquire('GET /x');
    const err = await limiter.acquire('GET /x').catch((e: unknown) => e);
    expect(isCodedError(err, 'ERR_RATE_LIMITED')).toBe(true);
  });
});

describe('StateRateLimiter when the store fails', () => {
  it('lets calls go (logged once at error) and limits again when the store is back', async () => {
    const logs = new CaptureLogger();
    let broken = true;
    const inner = new MemoryStateStore({ logger: silentLogger() });
    const flaky: StateStore = {
      kind: 'memory',
      get: (k) => (broken ? Promise.reject(new Error('store down')) : inner.get(k)),
      set: (k, v, t) => inner.set(k, v, t),
      setIfAbsent: (k, v, t) => inner.setIfAbsent(k, v, t),
      compareAndSwap: (k, e, n, t) =>
        broken ? Promise.reject(new Error('store down')) : inner.compareAndSwap(k, e, n, t),
      delete: (k) => inner.delete(k),
      incrWithTtl: (k, t) => (broken ? Promise.reject(new Error('store down')) : inner.incrWithTtl(k, t)),
      close: () => inner.close(),
    };
    const limiter = new StateRateLimiter({
      store: flaky,
      logger: logs.logger,
      qps: 1,
      windowMs: 60_000,
      maxWaitMs: 0,
    });
    for (let i = 0; i < 5; i++) await limiter.acquire('GET /x');
    expect(logs.find('rate limit store failed')).toHaveLength(1);
    broken = false;
    await limiter.acquire('GET /x');
    expect(logs.find('limiting again')).toHaveLength(1);
    const err = await limiter.acquire('GET /x').catch((e: unknown) => e);
    expect(isCodedError(err, 'ERR_RATE_LIMITED')).toBe(true);
    await inner.close();
  });

  it('rejects bad options', () => {
    const store = new MemoryStateStore({ logger: silentLogger() });
    expect(() => new StateRateLimiter({ store, logger: silentLogger(), qps: 0 })).toThrow(RangeError);
    expect(() => new StateRateLimiter({ store, logger: silentLogger(), windowMs: 0.5 })).toThrow(RangeError);
    void store.close();
  });
});
