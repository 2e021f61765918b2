/**
 * Leaks, measured: 1,000 connect/disconnect cycles against the sandbox's gateway end with no sockets,
 * timers or listeners left over. Two kinds of cycle:
 *  - lifecycle: a new StreamClient is started, receives one EVENT, and is stopped, 1,000 times;
 *  - reconnect: one running client whose connection the gateway ends 1,000 times, alternating an abrupt
 *    drop (no close frame) and a SYSTEM `disconnect` (make-before-break handover).
 * What is counted: the process's active resources by type (`process.getActiveResourcesInfo()`: TCP
 * sockets and servers, timers, ...), listeners on `process`, the client's own listeners and retiring
 * connections, the gateway's connections, pending acks and timers, and MaxListenersExceeded warnings.
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { StreamClient, silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/sdk/test/support/wait.js';

const CYCLES = 1_000;

/** Active resources of the process by type (TCPSocketWrap, TCPServerWrap, Timeout, ...). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function processListeners(): number {
  return process.eventNames().reduce((n, name) => n + process.listenerCount(name), 0);
}

/** Waits (bounded) until every resource count is at or below the baseline; else fails naming the excess. */
async function backToBaseline(baseline: Record<string, number>): Promise<void> {
  let excess: Record<string, number> = {};
  const over = () => {
    excess = {};
    for (const [type, n] of Object.entries(resources()))
      if (n > (baseline[type] ?? 0)) excess[type] = n - (baseline[type] ?? 0);
    return Object.keys(excess).length > 0;
  };
  await until(() => !over(), 5_000, 'resources back to the baseline').catch(() => {
    throw new Error(
      `leaked after ${CYCLES} cycles: ${JSON.stringify(excess)} over ${JSON.stringify(baseline)}`,
    );
  });
}

let sandbox: Sandbox;
const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);

beforeAll(async () => {
  process.on('warning', onWarning);
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    disconnectGraceMs: 20,
    // Each cycle's socket is in the closed list (it keeps 100) and the delivery log (bounded).
    deliveryLogSize: 100,
  });
});

afterAll(async () => {
  process.off('warning', onWarning);
  await sandbox.close();
});

function newClient(overrides: Partial<ConstructorParameters<typeof StreamClient>[0]> = {}): StreamClient {
  return new StreamClient({
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    apiBase: sandbox.url,
    logger: silentLogger(),
    localIp: '127.0.0.1',
    stopTimeoutMs: 1_000,
    ...overrides,
  }).onEvent(() => undefined);
}

async function oneEvent(): Promise<void> {
  await sandbox.gateway.waitForConnection({ clientId: SEED_APP.clientId, type: 'EVENT', topic: '*' }, 5_000);
  const result = await sandbox.gateway.pushEvent({ clientId: SEED_APP.clientId, eventType: 'cycle' }).done;
  if (result.status !== 'acked') throw new Error(`event not acked: ${JSON.stringify(result)}`);
}

/** 1,000 cycles take 5-15 s alone; a loaded 2-core CI machine has been seen needing more than 30 s. */
const CYCLE_TEST_TIMEOUT_MS = 120_000;

describe(`${CYCLES} connect/disconnect cycles`, () => {
  it(
    'lifecycle: start, one EVENT, stop; nothing left of any of them',
    async () => {
      // Warm-up cycles: lazily created module state (undici, ws, pino) is not a leak.
      for (let i = 0; i < 10; i++) {
        const c = newClient();
        await c.start();
        await oneEvent();
        await c.stop();
      }
      await until(
        () => sandbox.gateway.stats().connections === 0,
        5_000,
        'the gateway to forget the sockets',
      );
      const baseline = resources();
      const listeners = processListeners();
      const started = Date.now();
      for (let i = 0; i < CYCLES; i++) {
        const client = newClient();
        await client.start();
        await oneEvent();
        await client.stop();
        expect(client.status().state).toBe('stopped');
      }
      await backToBaseline(baseline);
      expect(processListeners()).toBe(listeners);
      await until(
        () => sandbox.gateway.stats().connections === 0,
        5_000,
        'the gateway to close every socket',
      );
      expect(sandbox.gateway.stats()).toMatchObject({ connections: 0, pendingAcks: 0, activeEvents: 0 });
      expect(warnings).toEqual([]);
      console.info(
        `lifecycle: ${CYCLES} cycles in ${Date.now() - started} ms; resources ${JSON.stringify(resources())}`,
      );
    },
    CYCLE_TEST_TIMEOUT_MS,
  );

  it(
    'reconnect: one client, the gateway drops or disconnects its connection each cycle; it stays one connection',
    async () => {
      const client = newClient({
        // Cycles come faster than a connection can prove stable: keep the backoff short for this test.
        reconnect: { initialDelayMs: 1, maxDelayMs: 5, resetAfterMs: 1 },
      });
      const listenerCounts = () => client.eventNames().map((e) => [e, client.listenerCount(e)]);
      await client.start();
      const current = async () =>
        (
          await sandbox.gateway.waitForConnection(
            { clientId: SEED_APP.clientId, type: 'EVENT', topic: '*' },
            5_000,
          )
        ).id;
      // Warm-up cycles.
      for (let i = 0; i < 4; i++) {
        const id = await current();
        if (i % 2 === 0) await sandbox.gateway.drop(id);
        else sandbox.gateway.disconnect(id, 'warm-up');
        await until(
          () => sandbox.gateway.listConnections().every((c) => c.id !== id || c.state === 'closed'),
          5_000,
          'the old socket to close',
        );
      }
      await oneEvent();
      const baseline = resources();
      const listeners = processListeners();
      const clientListeners = listenerCounts();
      const started = Date.now();
      for (let i = 0; i < CYCLES; i++) {
        const id = await current();
        if (i % 2 === 0) await sandbox.gateway.drop(id);
        else sandbox.gateway.disconnect(id, 'cycle');
        await until(
          () => sandbox.gateway.listConnections().every((c) => c.id !== id || c.state === 'closed'),
          5_000,
          `socket ${id} to close`,
        );
        if (i % 100 === 0) await oneEvent();
      }
      await oneEvent();
      await until(
        () => client.status().connections[0]?.state === 'connected',
        5_000,
        'the client to be connected',
      );
      await backToBaseline(baseline);
      expect(processListeners()).toBe(listeners);
      expect(listenerCounts()).toEqual(clientListeners);
      const status = client.status();
      expect(status.connections).toHaveLength(1);
      expect(status.connections[0]).toMatchObject({ state: 'connected', retiring: 0 });
      const open = sandbox.gateway.listConnections().filter((c) => c.state !== 'closed');
      expect(open).toHaveLength(1);
      expect(sandbox.gateway.stats()).toMatchObject({ connections: 1, pendingAcks: 0, activeEvents: 0 });
      expect(warnings).toEqual([]);
      console.info(
        `reconnect: ${CYCLES} cycles in ${Date.now() - started} ms; resources ${JSON.stringify(resources())}`,
      );
      await client.stop();
    },
    CYCLE_TEST_TIMEOUT_MS,
  );
});
