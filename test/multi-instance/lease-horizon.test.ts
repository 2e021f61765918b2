/**
 * An instance killed while it holds EVENT claims, with a handler timeout longer than the platform's
 * redelivery schedule (issue 11 #5). Before the fix a claim was leased for the handler timeout plus 5 s
 * (here 305 s): the platform's redeliveries all found the event "in progress" and gave up, so the events
 * the dead instance held were never handled. Now a lease is short (`--event-lease`) and renewed while its
 * handler runs, so the dead instance's claims run out fast and the survivor handles every event within
 * the schedule.
 *
 * Real parts: Debian's redis-server (shared state and the ledger), the sandbox with its default
 * redelivery schedule (10/30/60/120 s on the sandbox clock, driven over HTTP with
 * `POST /sandbox/clock/advance`), two `dingtalk-skills start` child processes, SIGKILL.
 */
import { createSandbox, type EventResult, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger, TokenCipher } from '@dingtalk-skills/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import { type AppInstance, startInstance, sumOver, waitUntil } from './instance.js';

const EVENTS = 20;
const LEDGER = 'lease-ledger';
/** Longer than the default redelivery schedule (~210 s): the lease must not depend on it. */
const HANDLER_TIMEOUT_MS = 300_000;
/** One lease (real time), renewed every second while a handler runs. */
const EVENT_LEASE_MS = 3_000;
/** The sandbox's default schedule, in sandbox-clock ms. */
const LAST_DELAY_MS = 120_000;

let redis: RedisServerHandle;
let ledger: Redis;
let sandbox: Sandbox;
const instances: AppInstance[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  ledger = new Redis(redis.url);
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    // The victim's deliveries fail when its socket closes (SIGKILL), not by ack timeout.
    ackTimeoutMs: 60_000,
  });
}, 30_000);

afterAll(async () => {
  for (const i of instances) if (i.alive()) i.child.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.exited));
  await sandbox?.close();
  ledger?.disconnect();
  await redis?.stop();
});

const tokenKey = `k1:${TokenCipher.generateKey()}`;

function start(name: string): Promise<AppInstance> {
  return startInstance({
    name,
    args: ['--handler-timeout', String(HANDLER_TIMEOUT_MS), '--event-lease', String(EVENT_LEASE_MS)],
    env: {
      DINGTALK_CLIENT_ID: SEED_APP.clientId,
      DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
      DINGTALK_API_BASE: sandbox.url,
      DINGTALK_STATE: redis.url,
      DINGTALK_TOKEN_KEY: tokenKey,
      LEDGER_REDIS_URL: redis.url,
      LEDGER_KEY: LEDGER,
    },
  }).then((i) => {
    instances.push(i);
    return i;
  });
}

async function advanceClock(ms: number): Promise<void> {
  const res = await fetch(`${sandbox.url}/sandbox/clock/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
  expect(res.status).toBe(200);
}

describe('an instance killed while holding EVENT claims, handler timeout beyond the redelivery schedule', () => {
  it(`every one of ${EVENTS} held events is handled by the survivor within the schedule`, async () => {
    const victim = await start('victim');
    // Frozen: its handlers claim their events and then stop before the ledger write.
    victim.child.kill('SIGUSR2');
    await waitUntil(
      async () => (await ledger.lrange(`${LEDGER}:frozen`, 0, -1)).includes(String(victim.pid)),
      15_000,
      'the victim to freeze',
    );
    const ids = Array.from({ length: EVENTS }, (_, i) => `held-${i}`);
    const results: Promise<EventResult>[] = ids.map(
      (eventId) => sandbox.gateway.pushEvent({ eventType: 'ledger_test', eventId, data: {} }).done,
    );
    let inFlight = 0;
    await waitUntil(
      async () => {
        inFlight = sumOver([await victim.metrics()], 'dingtalk_stream_in_flight');
        return inFlight >= EVENTS;
      },
      15_000,
      `the victim to hold all ${EVENTS} events`,
      () => ` (it holds ${inFlight})`,
    );

    const survivor = await start('survivor');
    victim.child.kill('SIGKILL');
    await victim.exited;

    // Drive the platform's schedule: each advance sends every redelivery that is due. The whole
    // schedule (4 redeliveries) passes in a few seconds of real time: far less than the old lease.
    let settled: EventResult[] | undefined;
    void Promise.all(results).then((r) => {
      settled = r;
    });
    for (let step = 0; step < 12 && settled === undefined; step++) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await advanceClock(LAST_DELAY_MS);
    }
    const final = await Promise.all(results);
    const notAcked = final
      .filter((r) => r.status !== 'acked')
      .map((r) => `${r.eventId}:${r.status}/${r.attempts}`);
    expect(notAcked, 'events the platform gave up on').toEqual([]);
    const entries = await ledger.lrange(LEDGER, 0, -1);
    expect(entries.map((e) => e.split(' ')[0]).sort()).toEqual([...ids].sort());
    expect(new Set(entries.map((e) => e.split(' ')[1]))).toEqual(new Set([String(survivor.pid)]));
    // The survivor saw the dead instance's leases while they lasted, and took over after.
    const scrape = await survivor.metrics();
    expect(sumOver([scrape], 'dingtalk_stream_messages_total', { type: 'EVENT', outcome: 'success' })).toBe(
      EVENTS,
    );
    expect(sumOver([scrape], 'dingtalk_stream_dedup_errors_total')).toBe(0);
    // No start-up warning: the lease is well inside the schedule even with a 300 s handler timeout.
    expect(survivor.output()).not.toContain('outlasts the platform redelivery schedule');
  }, 120_000);

  it('a lease longer than the redelivery schedule is warned about at start', async () => {
    const risky = await startInstance({
      name: 'risky',
      args: ['--handler-timeout', String(HANDLER_TIMEOUT_MS), '--event-lease', '240000'],
      env: {
        DINGTALK_CLIENT_ID: SEED_APP.clientId,
        DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
        DINGTALK_API_BASE: sandbox.url,
        DINGTALK_STATE: redis.url,
        DINGTALK_TOKEN_KEY: tokenKey,
        LEDGER_REDIS_URL: redis.url,
        LEDGER_KEY: LEDGER,
      },
    });
    instances.push(risky);
    await waitUntil(
      () => risky.output().includes('outlasts the platform redelivery schedule'),
      10_000,
      'the start-up warning',
      () => `: ${risky.output()}`,
    );
    const exit = await risky.stop(30_000);
    expect(exit, `how it stopped; its output:\n${risky.output().slice(-3000)}`).toMatchObject({ code: 0 });
  }, 60_000);
});
