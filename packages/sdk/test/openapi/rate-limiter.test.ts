import { WindowRateLimiter } from '@dingtalk-skills/sdk/openapi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('WindowRateLimiter', () => {
  it('lets qps calls start at once, then gives the next one the slot a window after the first', () => {
    const limiter = new WindowRateLimiter({ qps: 5 });
    const slots = Array.from({ length: 11 }, () => limiter.reserve('POST /v1.0/x'));
    const first = slots[0] as number;
    // The first five start now (within the few ms this loop takes).
    for (const s of slots.slice(0, 5)) expect(s - first).toBeLessThan(100);
    expect(slots[5]).toBe(first + 1000);
    expect(slots[10]).toBe(first + 2000);
    // Another API has its own budget.
    expect(limiter.reserve('GET /v1.0/y') - first).toBeLessThan(100);
  });

  it('never lets more than qps starts into any window (property over arrival patterns)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 80 }),
        (qps, gaps) => {
          let t = 0;
          const limiter = new WindowRateLimiter({ qps, windowMs: 1000, now: () => t });
          const starts: number[] = [];
          for (const gap of gaps) {
            t += gap;
            const s = limiter.reserve('k');
            expect(s).toBeGreaterThanOrEqual(t); // never in the past
            starts.push(s);
          }
          for (let i = 0; i + qps < starts.length; i++)
            expect((starts[i + qps] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(1000);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('acquire waits for the reserved slot', async () => {
    const limiter = new WindowRateLimiter({ qps: 2, windowMs: 150 });
    const t0 = Date.now();
    await Promise.all([limiter.acquire('k'), limiter.acquire('k'), limiter.acquire('k')]);
    // The third call could not start before the window of the first had passed.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(145);
  });

  it('rejects a bad qps or window', () => {
    expect(() => new WindowRateLimiter({ qps: 0 })).toThrow(RangeError);
    expect(() => new WindowRateLimiter({ qps: 1.5 })).toThrow(RangeError);
    expect(() => new WindowRateLimiter({ qps: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
