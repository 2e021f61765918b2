import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue, MAX_TIMEOUT_MS } from '../../src/skills/deadlines.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/**
 * Waits until `done()` holds, for at most `maxMs`: a loaded machine (CI runs test files in parallel)
 * delays timers, so what must happen is awaited, never assumed after a fixed sleep.
 */
async function until(done: () => boolean, maxMs = 5_000): Promise<void> {
  const started = performance.now();
  while (!done() && performance.now() - started < maxMs) await sleep(5);
}

describe('DeadlineQueue: every invocation deadline on one timer', () => {
  it('expires a deadline once its time has passed, not before', async () => {
    const q = new DeadlineQueue();
    const started = performance.now();
    let firedAt: number | undefined;
    q.add(40, () => {
      firedAt = performance.now();
    });
    await sleep(15);
    expect(firedAt).toBeUndefined();
    await until(() => firedAt !== undefined);
    expect(firedAt).toBeDefined();
    expect(firedAt! - started).toBeGreaterThanOrEqual(39);
    expect(q.size).toBe(0);
  });

  it('a cancelled deadline never fires; the others still do, in deadline order across timeout values', async () => {
    const q = new DeadlineQueue();
    const fired: string[] = [];
    const a = q.add(30, () => fired.push('a'));
    q.add(60, () => fired.push('b'));
    q.add(20, () => fired.push('c'));
    q.add(30, () => fired.push('d'));
    a.cancel();
    a.cancel(); // twice is harmless
    expect(q.size).toBe(3);
    await until(() => fired.length === 3);
    await sleep(20); // a cancelled one would have fired with its list by now
    expect(fired).toEqual(['c', 'd', 'b']);
    expect(q.size).toBe(0);
  });

  it('a shorter deadline added later re-arms the timer earlier', async () => {
    const q = new DeadlineQueue();
    const fired: string[] = [];
    q.add(5_000, () => fired.push('long'));
    const started = performance.now();
    let shortAt = 0;
    q.add(25, () => {
      shortAt = performance.now();
      fired.push('short');
    });
    await until(() => fired.length > 0);
    expect(fired).toEqual(['short']);
    // Without re-arming it would fire with the 5 s deadline; the margin is for a loaded machine.
    expect(shortAt - started).toBeLessThan(2_500);
    expect(q.size).toBe(1);
  });

  it('many deadlines cancelled before they are due leave nothing pending and nothing fires', async () => {
    const q = new DeadlineQueue();
    let fired = 0;
    for (let i = 0; i < 10_000; i++) q.add(30, () => fired++).cancel();
    expect(q.size).toBe(0);
    await sleep(60);
    expect(fired).toBe(0);
  });

  it('a callback that throws does not stop the deadlines due with it; the error is not swallowed', async () => {
    const q = new DeadlineQueue();
    const fired: string[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // vitest reports uncaught errors as failures: take this one for the duration of the test.
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      q.add(20, () => {
        throw new Error('boom');
      });
      q.add(20, () => fired.push('after'));
      await until(() => fired.length === 1 && uncaught.length === 1);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    expect(fired).toEqual(['after']);
    expect(uncaught).toHaveLength(1);
    expect((uncaught[0] as Error).message).toBe('boom');
  });

  it('runs each expiry in the async context of the call that added it, not of the one that armed the timer', async () => {
    const q = new DeadlineQueue();
    const als = new AsyncLocalStorage<string>();
    const seen: Array<[string, string | undefined]> = [];
    // 'a' arms the shared timer; 'b' and 'c' are due later and re-armed from inside the timer's callback.
    als.run('a', () => q.add(20, () => seen.push(['a', als.getStore()])));
    als.run('b', () => q.add(35, () => seen.push(['b', als.getStore()])));
    als.run('c', () => q.add(20, () => seen.push(['c', als.getStore()])));
    q.add(20, () => seen.push(['none', als.getStore()]));
    await until(() => seen.length === 4);
    expect(seen.sort()).toEqual([
      ['a', 'a'],
      ['b', 'b'],
      ['c', 'c'],
      ['none', undefined],
    ]);
  });

  it("calls an object target's expire() with the target as `this`, in the adder's async context", async () => {
    const q = new DeadlineQueue();
    const als = new AsyncLocalStorage<string>();
    const seen: Array<[boolean, string | undefined]> = [];
    const target = {
      expire(this: unknown) {
        seen.push([this === target, als.getStore()]);
      },
    };
    als.run('adder', () => q.add(20, target));
    await until(() => seen.length === 1);
    expect(seen).toEqual([[true, 'adder']]);
    expect(q.size).toBe(0);
  });

  it('an expiry that cancels another deadline due in the same batch stops that one from running', async () => {
    const q = new DeadlineQueue();
    const fired: string[] = [];
    let second: { cancel(): void } | undefined;
    q.add(20, () => {
      fired.push('first');
      second?.cancel();
    });
    second = q.add(20, () => fired.push('second'));
    q.add(20, () => fired.push('third'));
    await until(() => fired.includes('third'));
    expect(fired).toEqual(['first', 'third']);
    expect(q.size).toBe(0);
  });

  it('refuses a timeout that would make the timer spin: NaN, Infinity, 0, negative, fractional, past 2^31-1 ms', () => {
    const q = new DeadlineQueue();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 0, -5, 1.5, MAX_TIMEOUT_MS + 1])
      expect(() => q.add(bad, () => undefined)).toThrow(RangeError);
    expect(q.size).toBe(0);
    q.add(MAX_TIMEOUT_MS, () => undefined).cancel();
    expect(q.size).toBe(0);
  });

  it('holds the process open only while a deadline is pending', async () => {
    // A child process adds a 5 s deadline and cancels it at once: it must exit right away.
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const src = fileURLToPath(new URL('../../src/skills/deadlines.ts', import.meta.url));
    const script = `
      const { DeadlineQueue } = await import(${JSON.stringify(src)});
      const q = new DeadlineQueue();
      q.add(5000, () => { console.log('fired'); }).cancel();
      const t = performance.now();
      process.on('exit', () => console.log('exit', Math.round(performance.now() - t)));
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.stderr).toBe('');
    expect(res.stdout).not.toContain('fired');
    const ms = Number(/exit (\d+)/.exec(res.stdout)?.[1]);
    expect(ms).toBeLessThan(4_000);
  });
});
