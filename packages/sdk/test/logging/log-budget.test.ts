import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../src/logging/log-budget.js';

describe('LogBudget', () => {
  it('lets a burst through, then one line per refill, and reports how many were left out', () => {
    let now = 0;
    const budget = new LogBudget(3, 2, () => now); // 3 at once, then 2 a second
    expect([budget.take(), budget.take(), budget.take()]).toEqual([0, 0, 0]);
    expect([budget.take(), budget.take(), budget.take()]).toEqual([undefined, undefined, undefined]);
    now += 499; // not yet one token
    expect(budget.take()).toBeUndefined();
    now += 1; // 500 ms: one token back
    expect(budget.take()).toBe(4);
    expect(budget.take()).toBeUndefined();
    now += 10_000; // refills up to the burst, no further
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([1, 0, 0, undefined]);
  });
});
