import { backoffDelay } from '@dingtalk-skills/sdk/stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const DEFAULTS = { initialDelayMs: 100, maxDelayMs: 30_000, factor: 2, jitter: 'equal' as const };

describe('backoffDelay', () => {
  it('doubles from initialDelayMs and caps at maxDelayMs (random = 1 gives the base)', () => {
    const bases = [0, 1, 2, 3, 4, 8, 9, 20, 1_000].map((n) => backoffDelay(DEFAULTS, n, () => 1));
    expect(bases).toEqual([100, 200, 400, 800, 1_600, 25_600, 30_000, 30_000, 30_000]);
  });

  it('equal jitter stays within [base/2, base]; full jitter within [0, base]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
        const base = Math.min(30_000, 100 * 2 ** n);
        const equal = backoffDelay(DEFAULTS, n, () => r);
        const full = backoffDelay({ ...DEFAULTS, jitter: 'full' }, n, () => r);
        expect(equal).toBeGreaterThanOrEqual(Math.floor(base / 2));
        expect(equal).toBeLessThanOrEqual(base);
        expect(full).toBeGreaterThanOrEqual(0);
        expect(full).toBeLessThanOrEqual(base);
      }),
    );
  });

  it('with the defaults, even the shortest delays allow only 6 attempts in 3 s', () => {
    // Attempt times with the shortest possible delays (random = 0): 0, 50, 150, 350, 750, 1550, 3150...
    let t = 0;
    let attempts = 1;
    for (let n = 0; ; n++) {
      t += backoffDelay(DEFAULTS, n, () => 0);
      if (t >= 3_000) break;
      attempts++;
    }
    expect(attempts).toBe(6);
  });
});
