/**
 * The card pacer across two app instances: two in-process runtimes (each its own OpenAPI client,
 * AiCards and Redis connection) on one real redis-server share one card QPS budget, so together they
 * stay within the sandbox's card QPS limit. The same load with per-process pacers exceeds it (the
 * control run shows the assertion can fail).
 */
import type { Sandbox } from '@dingtalk-skills/sandbox';
import { type StateStore, silentLogger } from '@dingtalk-skills/sdk';
import { AiCards } from '@dingtalk-skills/sdk/cards';
import type { OpenApiClient } from '@dingtalk-skills/sdk/openapi';
import { createStateStore } from '@dingtalk-skills/sdk/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.js';
import { until } from '../support/wait.js';
import {
  cardOf,
  cardStats,
  chunks,
  control,
  seedClient,
  setCardQpsLimit,
  sleep,
  startCardSandbox,
} from './support.js';

const LIMIT = 6; // the sandbox's card QPS limit for the app
const PACER_QPS = 5; // per window of 1.1 s, for the app as a whole

let sandbox: Sandbox;
let redis: RedisServerHandle;
const clients: OpenApiClient[] = [];
const stores: StateStore[] = [];

beforeAll(async () => {
  sandbox = await startCardSandbox();
  redis = await startRedisServer();
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(stores.map((s) => s.close()));
  await sandbox?.close();
  await redis?.stop();
});

/** One app instance: its own client, store connection (or none) and AiCards. */
async function instance(shared: boolean, prefix: string): Promise<AiCards> {
  const client = seedClient(sandbox);
  clients.push(client);
  let store: StateStore | undefined;
  if (shared) {
    store = await createStateStore(redis.url, { logger: silentLogger(), prefix });
    stores.push(store);
  }
  return new AiCards({
    openapi: client,
    ...(store ? { store } : {}),
    qps: PACER_QPS,
    windowMs: 1100,
    intervalMs: 50,
    backoffMs: 300,
    finishTimeoutMs: 60_000,
    logger: silentLogger(),
  });
}

/** Three replies on each instance, appended together for ~1.5 s, then finished. */
async function run(a: AiCards, b: AiCards) {
  await control(sandbox, 'DELETE', '/sandbox/cards/stats');
  const users = ['zhangsan', 'lisi', 'zhangsan'];
  const streams = [a, b]
    .flatMap((ai) => users.map((userId) => ai.start({ kind: 'user', userId }, {})))
    .map((s, i) => ({ s, i }));
  const parts = chunks(15);
  for (const part of parts) {
    for (const { s, i } of streams) s.append(`${part}${i}`);
    await sleep(100);
  }
  const results = await Promise.all(streams.map(({ s }) => s.finish()));
  for (const [i, r] of results.entries()) {
    expect(r.outcome).toBe('card');
    const card = await cardOf(sandbox, streams[i]!.s.outTrackId);
    expect(card.text).toBe(parts.map((p) => `${p}${i}`).join(''));
    expect(card.flowStatus).toBe('3');
  }
  const stats = await cardStats(sandbox);
  await a.close();
  await b.close();
  return stats;
}

describe('card pacer across two instances on one Redis', () => {
  it('keeps both instances together within the card QPS limit, and every reply lands', async () => {
    await setCardQpsLimit(sandbox, LIMIT);
    const stats = await run(await instance(true, 'pacer-a:'), await instance(true, 'pacer-a:'));
    expect(stats.calls).toBeGreaterThan(20);
    // Shared turns: at most 5 starts per 1.1 s for the app; a 403 needs >100 ms of jitter between a turn
    // and its arrival (a CI run with four other jobs on the 2 cores saw 2).
    expect(stats.qpsRejected).toBeLessThanOrEqual(2);
    expect(stats.maxArrivalQps).toBeLessThanOrEqual(LIMIT + 1);
  }, 90_000);

  it('a QPS 403 seen by one instance pauses the other instance too (the pause is in the store)', async () => {
    await setCardQpsLimit(sandbox, 1);
    const a = await instance(true, 'pacer-b:');
    const b = await instance(true, 'pacer-b:');
    const reader = await createStateStore(redis.url, { logger: silentLogger(), prefix: 'pacer-b:' });
    stores.push(reader);
    // Instance A alone: its create and deliver come within a second, so the second one is answered 403.
    const first = a.start({ kind: 'user', userId: 'zhangsan' });
    first.append('A');
    let pausedUntil = 0;
    await until(() => a.stats().backoffs > 0, 20_000, 'instance A to be answered a QPS 403');
    pausedUntil = Number(await reader.get('cards:dingsandboxapp001:paused-until'));
    expect(pausedUntil).toBeGreaterThan(Date.now() - 5_000);
    // Instance B starts a card now: its first call must wait for the pause A recorded.
    await setCardQpsLimit(sandbox, 0);
    const second = b.start({ kind: 'user', userId: 'lisi' });
    second.append('B');
    await Promise.all([first.finish(), second.finish()]);
    const created = (await cardOf(sandbox, second.outTrackId)).history[0]!;
    expect(created.api).toBe('create');
    expect(created.at).toBeGreaterThanOrEqual(pausedUntil - 5);
    expect(b.stats().qpsLimited).toBe(0);
    await a.close();
    await b.close();
  }, 90_000);

  it('control run: per-process pacers (no shared store) exceed the limit and are answered 403', async () => {
    await setCardQpsLimit(sandbox, LIMIT);
    const stats = await run(await instance(false, ''), await instance(false, ''));
    expect(stats.qpsRejected).toBeGreaterThan(0);
    expect(stats.maxArrivalQps).toBeGreaterThan(LIMIT);
  }, 90_000);
});
