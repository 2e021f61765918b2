import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isCodedError, type StateStore, silentLogger } from '@dingtalk-skills/sdk';
import { StateRefreshLock } from '@dingtalk-skills/sdk/state';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../support/capture-logger.js';
import { deferred, within } from '../support/wait.js';
import { ALL_KINDS, SHARED_KINDS, StateKit, sleep } from './state-kit.js';

const kit = new StateKit();
afterEach(() => kit.closeStores());
afterAll(() => kit.closeAll());

const HOLD_LOCK = fileURLToPath(new URL('./fixtures/hold-lock.ts', import.meta.url));

function lockOn(store: StateStore, opts: Partial<ConstructorParameters<typeof StateRefreshLock>[0]> = {}) {
  return new StateRefreshLock({ store, logger: silentLogger(), minPollMs: 5, maxPollMs: 30, ...opts });
}

describe.each(ALL_KINDS)('StateRefreshLock on %s', (kind) => {
  it('two holders (two store connections) contend: one at a time, every call runs', async () => {
    const b = await kit.backing(kind);
    const locks = [lockOn(await b.open()), lockOn(await b.open())];
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    const calls = Array.from({ length: 10 }, (_, i) =>
      (locks[i % 2] as StateRefreshLock).run('user-1', async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(5);
        order.push(i);
        active--;
        return i;
      }),
    );
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(maxActive).toBe(1);
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // Different keys do not wait for each other.
    const hold = deferred();
    const first = locks[0]?.run('user-a', () => hold.promise);
    expect(
      await within(
        locks[1]!.run('user-b', async () => 'b'),
        2_000,
        'another key',
      ),
    ).toBe('b');
    hold.resolve();
    await first;
  });

  it('releases the lock when fn throws, and passes the error on', async () => {
    const b = await kit.backing(kind);
    const store = await b.open();
    const lock = lockOn(store);
    await expect(
      lock.run('user-1', async () => {
        throw new Error('refresh failed');
      }),
    ).rejects.toThrow('refresh failed');
    expect(await store.get('lock:refresh:user-1')).toBeNull();
    expect(await lock.run('user-1', async () => 'again')).toBe('again');
  });

  it('a holder that never releases is overtaken after its lease; its late release leaves the new lock alone', async () => {
    const b = await kit.backing(kind);
    const logs = new CaptureLogger();
    const stuck = lockOn(await b.open(), { leaseMs: 400, logger: logs.logger });
    const other = lockOn(await b.open(), { leaseMs: 10_000, maxWaitMs: 5_000 });
    const store = await b.open();
    const stuckGo = deferred();
    const stuckHeld = deferred();
    const stuckRun = stuck.run('user-1', async () => {
      stuckHeld.resolve();
      await stuckGo.promise;
      return 'stuck done';
    });
    await stuckHeld.promise;
    const stuckHolder = await store.get('lock:refresh:user-1');
    expect(stuckHolder).toMatch(new RegExp(`:${process.pid}:`));
    const otherGo = deferred();
    let otherHolder: string | null = null;
    const otherRun = other.run('user-1', async () => {
      otherHolder = await store.get('lock:refresh:user-1');
      await otherGo.promise;
      return 'other done';
    });
    await within(
      (async () => {
        while (otherHolder === null) await sleep(10);
      })(),
      3_000,
      'the second holder to take over after the lease',
    );
    expect(otherHolder).not.toBe(stuckHolder);
    // The stuck holder finishes late: its release must not delete the new holder's lock.
    stuckGo.resolve();
    expect(await stuckRun).toBe('stuck done');
    expect(await store.get('lock:refresh:user-1')).toBe(otherHolder);
    expect(logs.find('lease ran out')).toHaveLength(1);
    otherGo.resolve();
    expect(await otherRun).toBe('other done');
    expect(await store.get('lock:refresh:user-1')).toBeNull();
  });

  it('gives up with ERR_STATE after maxWaitMs while another holder keeps the lock', async () => {
    const b = await kit.backing(kind);
    const holder = lockOn(await b.open(), { leaseMs: 10_000 });
    const waiter = lockOn(await b.open(), { leaseMs: 10_000, maxWaitMs: 100 });
    const go = deferred();
    const held = deferred();
    const holding = holder.run('user-1', async () => {
      held.resolve();
      await go.promise;
    });
    await held.promise;
    let ran = false;
    const err = await waiter
      .run('user-1', async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(isCodedError(err, 'ERR_STATE')).toBe(true);
    expect((err as Error).message).toContain('still held');
    expect(ran).toBe(false);
    go.resolve();
    await holding;
  });
});

describe.each(SHARED_KINDS)('StateRefreshLock on %s across processes', (kind) => {
  it('a holder process killed with SIGKILL frees the lock when its lease ends', async () => {
    const b = await kit.backing(kind);
    const child = spawn(process.execPath, ['--import', 'tsx', HOLD_LOCK, b.url, b.prefix, 'user-1', '800'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    try {
      await within(
        (async () => {
          while (!out.includes('held')) {
            if (child.exitCode !== null) throw new Error(`hold-lock exited ${child.exitCode}: ${err}`);
            await sleep(20);
          }
        })(),
        20_000,
        'the child process to take the lock',
      );
      const store = await b.open();
      expect(await store.get('lock:refresh:user-1')).toContain(`:${child.pid}:`);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      // Still held right after the crash: the lease, not the process, decides.
      expect(await store.get('lock:refresh:user-1')).toContain(`:${child.pid}:`);
      const lock = lockOn(store, { maxWaitMs: 10_000 });
      expect(await lock.run('user-1', async () => 'taken over')).toBe('taken over');
      expect(await store.get('lock:refresh:user-1')).toBeNull();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
