import { InProcessRefreshLock } from '@dingtalk-skills/sdk/internal';
import { describe, expect, it } from 'vitest';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('InProcessRefreshLock', () => {
  it('runs one holder per key at a time, in arrival order, and keeps going after a failure', async () => {
    const lock = new InProcessRefreshLock();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    const runs = Array.from({ length: 20 }, (_, i) =>
      lock.run('user-1', async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        await tick();
        order.push(i);
        inside -= 1;
        if (i === 3) throw new Error('boom');
        return i;
      }),
    );
    const results = await Promise.allSettled(runs);
    expect(maxInside).toBe(1);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results[3]).toMatchObject({ status: 'rejected' });
    expect(results[19]).toEqual({ status: 'fulfilled', value: 19 });
    expect(lock.activeKeys).toBe(0);
  });

  it('does not serialize different keys', async () => {
    const lock = new InProcessRefreshLock();
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((k) =>
        lock.run(k, async () => {
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          await tick();
          inside -= 1;
        }),
      ),
    );
    expect(maxInside).toBe(3);
  });
});
