/**
 * Issue 11, item 17: a 32-connection pool against a failing gateway. Before, every slot started at once
 * and backed off on its own: 127 `connections/open` calls in the first second. Now slot starts are
 * staggered and, while no slot is connected, the pool shares one backoff: one slot probes at a time.
 *
 * The load-independent check: once a connect attempt has failed with no slot connected, attempts started
 * from then on never overlap (at most one in flight). The count of calls in the first second is bounded
 * too (<= 40), though on a loaded machine the old code also stays under it (each call is slow then).
 */
import type { StreamClient } from '@dingtalk-skills/sdk';
import { describe, expect, it } from 'vitest';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import { observeFor, until, within } from '../support/wait.js';

const fx = streamFixturePerTest();
const SLOTS = 32;

/** Records connect attempts and failures per slot, in order. */
function recordAttempts(client: StreamClient) {
  let failedYet = false;
  /** Slots with an attempt in flight that started after the first failure. */
  const lateInFlight = new Set<number>();
  let maxLateInFlight = 0;
  let lateAttempts = 0;
  client.on('connecting', ({ slot }) => {
    if (!failedYet) return;
    lateAttempts++;
    lateInFlight.add(slot);
    maxLateInFlight = Math.max(maxLateInFlight, lateInFlight.size);
  });
  client.on('error', (_err, { slot }) => {
    failedYet = true;
    lateInFlight.delete(slot);
  });
  client.on('connected', ({ slot }) => lateInFlight.delete(slot));
  return {
    get maxLateInFlight() {
      return maxLateInFlight;
    },
    get lateAttempts() {
      return lateAttempts;
    },
  };
}

describe('a pool of 32 against a failing gateway', () => {
  it('shares one backoff once an attempt failed (one probe at a time; <= 40 calls in the first second), then fills the pool once the gateway recovers', async () => {
    const gw = fx.gateway;
    gw.openFailure = { status: 502 };
    const client = fx.client({ connections: SLOTS, reconnect: {} }); // the library's backoff defaults
    client.onEvent(() => undefined);
    const attempts = recordAttempts(client);
    // Warm up fetch (undici loads lazily: a cold first call takes hundreds of ms and hides the burst).
    await (await fetch(`${gw.apiBase}/warm-up`)).text();
    const t0 = Date.now();
    const started = client.start();
    started.catch(() => undefined);
    await observeFor(2_000); // counting calls over a window: nothing to await
    const firstSecond = gw.openRequests.filter((r) => r.at - t0 <= 1_000).length;
    console.log(
      `pool-storm: ${firstSecond} connections/open in the first second, ${gw.openRequests.length} in 2 s; ` +
        `${attempts.lateAttempts} attempts after the first failure, at most ${attempts.maxLateInFlight} at once`,
    );
    expect(firstSecond).toBeGreaterThanOrEqual(1);
    expect(firstSecond).toBeLessThanOrEqual(40);
    expect(attempts.lateAttempts).toBeGreaterThanOrEqual(1);
    expect(attempts.maxLateInFlight).toBe(1);

    gw.openFailure = undefined;
    await within(started, 35_000, 'start() after the gateway recovered');
    await until(
      () => client.status().connections.every((s) => s.state === 'connected'),
      20_000,
      'every slot to connect',
    );
    expect(gw.openSockets()).toHaveLength(SLOTS);
  }, 60_000);

  it('when every connection drops at once and the gateway fails, one probe at a time until it recovers; then the pool fills again', async () => {
    const gw = fx.gateway;
    const client = fx.client({ connections: SLOTS, reconnect: {} });
    client.onEvent(() => undefined);
    await client.start();
    const sockets = await gw.waitForOpenSockets(SLOTS, 20_000);
    const attempts = recordAttempts(client);
    gw.openFailure = { status: 502 };
    for (const s of sockets) gw.drop(s);
    await observeFor(2_000);
    console.log(
      `pool-storm (mass drop): ${attempts.lateAttempts} attempts after the first failure, at most ${attempts.maxLateInFlight} at once`,
    );
    expect(attempts.maxLateInFlight).toBeLessThanOrEqual(1);
    gw.openFailure = undefined;
    await gw.waitFor(
      () => (gw.openSockets().length === SLOTS ? true : undefined),
      'the pool to fill again',
      35_000,
    );
  }, 60_000);
});
