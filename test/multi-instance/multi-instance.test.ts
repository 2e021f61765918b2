/**
 * Several instances of one app on shared Redis state, end to end: Debian's redis-server on a free
 * loopback port (never mocked), the sandbox in this process, and three `dingtalk-skills start` processes
 * with two Stream connections each and `DINGTALK_STATE=redis://...`.
 *
 * 1. 200 concurrent Graph invocations for one user whose access token expired, spread over the three
 *    instances by the gateway: exactly one refresh reaches the platform.
 * 2. 10 000 EVENTs, 5% of them delivered twice, with a fast redelivery schedule; in the middle one
 *    instance is frozen (its handlers stop before their ledger write) and killed with SIGKILL. Every
 *    event must end up handled exactly once across the instances (the ledger) and acked SUCCESS at the
 *    sandbox; no other instance may crash (each then stops on SIGTERM with exit code 0).
 */
import { createSandbox, type EventResult, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger, TokenCipher } from '@dingtalk-skills/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import { type AppInstance, startInstance, sumOver, waitUntil } from './instance.js';

const EVENTS = 10_000;
/** Every 20th event is delivered twice (5%). */
const DUPLICATE_EVERY = 20;
/** Events pushed and not yet settled at the sandbox, at most. */
const WINDOW = 400;
const INVOCATIONS = 200;
const CLIENT_ID = SEED_APP.clientId;
const LEDGER = 'ledger';
/** Where the CLI's shared state keeps EVENT dedup keys (`createSharedState`: prefix + `dedup:<clientId>:`). */
const DEDUP_PREFIX = `dingtalk-skills:dedup:${CLIENT_ID}:`;
/** Stream handler deadline of the instances; an EVENT lease is this plus 5 s. */
const HANDLER_TIMEOUT_MS = 5_000;
/** The sandbox redelivers a failed attempt after these delays: ~23 s in all, well past a 10 s lease. */
const REDELIVERY = [200, 500, 1_000, 2_000, 2_000, 2_000, 3_000, 3_000, 3_000, 3_000, 3_000];

let redis: RedisServerHandle;
let ledger: Redis;
let sandbox: Sandbox;
let instances: AppInstance[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  ledger = new Redis(redis.url);
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    eventRedelivery: REDELIVERY,
    ackTimeoutMs: 5_000,
    callbackTimeoutMs: 30_000,
    deliveryLogSize: 60_000,
  });
  const tokenKey = `k1:${TokenCipher.generateKey()}`;
  instances = await Promise.all(
    ['a', 'b', 'c'].map((name) =>
      startInstance({
        name,
        args: [
          '--connections',
          '2',
          '--handler-timeout',
          String(HANDLER_TIMEOUT_MS),
          // 200 calls to one API would take 10 s at DingTalk's 20 QPS; this test is about tokens and dedup.
          '--qps',
          '2000',
        ],
        env: {
          DINGTALK_CLIENT_ID: CLIENT_ID,
          DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
          DINGTALK_API_BASE: sandbox.url,
          DINGTALK_STATE: redis.url,
          DINGTALK_TOKEN_KEY: tokenKey,
          LEDGER_REDIS_URL: redis.url,
          LEDGER_KEY: LEDGER,
        },
      }),
    ),
  );
  await waitUntil(
    () => sandbox.gateway.listConnections().filter((c) => c.state === 'open').length === 6,
    20_000,
    'six open Stream connections (three instances x two)',
  );
}, 90_000);

afterAll(async () => {
  for (const i of instances) if (i.alive()) i.child.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.exited));
  await sandbox?.close();
  ledger?.disconnect();
  await redis?.stop();
});

interface GraphAnswer {
  status: number;
  body: Record<string, unknown>;
}

async function whoami(code?: string): Promise<GraphAnswer> {
  const query = `userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp${code ? `&oauthAuthCode=${code}` : ''}`;
  const result = await sandbox.gateway.invokeCallback({
    topic: '/v1.0/graph/api/invoke',
    data: { requestLine: { method: 'GET', uri: `/v1/actions/crm/me?${query}` }, headers: {}, body: '' },
    timeoutMs: 30_000,
  });
  if (result.status !== 'answered') return { status: 0, body: { callback: result } };
  const response = result.response as { statusLine: { code: number }; body: string };
  return { status: response.statusLine.code, body: JSON.parse(response.body) as Record<string, unknown> };
}

async function refreshes(): Promise<{ ok: number; failed: number }> {
  const res = await fetch(`${sandbox.url}/sandbox/stats/tokens?userId=zhangsan&clientId=${CLIENT_ID}`);
  const stats = (await res.json()) as { byAppUser: { refreshToken: number; refreshTokenFailed: number }[] };
  return {
    ok: stats.byAppUser.reduce((n, r) => n + r.refreshToken, 0),
    failed: stats.byAppUser.reduce((n, r) => n + r.refreshTokenFailed, 0),
  };
}

/** Counts per key, and the keys seen more than once or never. */
function tally(ids: string[], expected: string[]) {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = expected.filter((id) => !counts.has(id));
  const doubled = [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
  return { counts, missing, doubled };
}

const listed = (xs: string[]) => `${xs.length}${xs.length ? `: ${xs.slice(0, 20).join(', ')}` : ''}`;

describe('three instances on shared Redis state', () => {
  it(`${INVOCATIONS} concurrent invocations for one user with an expired token: exactly one refresh`, async () => {
    const code = sandbox.platform.authorize({
      userId: 'zhangsan',
      clientId: CLIENT_ID,
      scopes: ['Contact.User.Read'],
    }).code;
    const first = await whoami(code);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const before = await refreshes();
    const expire = await fetch(`${sandbox.url}/sandbox/users/zhangsan/expire-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: CLIENT_ID }),
    });
    expect(expire.status).toBe(200);

    const answers = await Promise.all(Array.from({ length: INVOCATIONS }, () => whoami()));
    const wrong = answers.filter((a) => a.status !== 200 || a.body.name !== '张三');
    expect(wrong.slice(0, 3), `${wrong.length} of ${INVOCATIONS} invocations failed`).toEqual([]);
    const after = await refreshes();
    expect(after.ok - before.ok).toBe(1);
    expect(after.failed - before.failed).toBe(0);

    const scrapes = await Promise.all(instances.map((i) => i.metrics()));
    const perInstance = scrapes.map((s) =>
      sumOver([s], 'dingtalk_skill_invocations_total', { skill: 'whoami', outcome: 'ok' }),
    );
    // The gateway spread the invocations: every instance answered some of them.
    expect(
      perInstance.every((n) => n > 0),
      `invocations per instance: ${perInstance.join(', ')}`,
    ).toBe(true);
    expect(perInstance.reduce((a, b) => a + b, 0)).toBe(INVOCATIONS + 1);
    expect(sumOver(scrapes, 'dingtalk_user_token_refreshes_total', { result: 'ok' })).toBe(1);
    expect(
      sumOver(scrapes, 'dingtalk_openapi_requests_total', {
        api: 'POST /v1.0/oauth2/userAccessToken',
        code: 'OK',
      }),
    ).toBe(2); // the code exchange and the one refresh
  }, 120_000);

  it(`${EVENTS} EVENTs with 5% duplicates and one instance killed mid-way: each handled exactly once, all acked SUCCESS`, async () => {
    const victim = instances[0]!;
    const survivors = instances.slice(1);
    const ids = Array.from({ length: EVENTS }, (_, i) => `evt-${i}`);
    const started = Date.now();
    const results: Promise<EventResult>[] = [];
    let open = 0;
    let wake: (() => void) | undefined;
    let killing: Promise<string> | undefined;

    for (let i = 0; i < EVENTS; i++) {
      while (open >= WINDOW) await new Promise<void>((resolve) => (wake = resolve));
      // In the middle: freeze and kill one instance while events keep coming.
      if (i === EVENTS / 2) killing = freezeAndKill(victim);
      const pushed = sandbox.gateway.pushEvent({
        eventType: 'ledger_test',
        eventId: ids[i]!,
        data: { n: i },
        duplicate: i % DUPLICATE_EVERY === 0,
      });
      open++;
      results.push(
        pushed.done.then((r) => {
          open--;
          wake?.();
          return r;
        }),
      );
    }
    const settled = await Promise.all(results);
    const killInfo = await killing!;
    const elapsedS = (Date.now() - started) / 1000;

    // Every event acked SUCCESS at the sandbox (the duplicate copies too).
    const notAcked = settled.filter((r) => r.status !== 'acked').map((r) => `${r.eventId}:${r.status}`);
    expect(notAcked, `events not acked: ${listed(notAcked)}`).toEqual([]);
    const log = sandbox.gateway.deliveries(0, 100_000).filter((d) => d.type === 'EVENT');
    const finalSuccess = log
      .filter((d) => !d.duplicate && d.outcome === 'acked' && d.ack?.status === 'SUCCESS')
      .map((d) => d.eventId!);
    const successTally = tally(finalSuccess, ids);
    expect(successTally.missing, `events without a SUCCESS ack: ${listed(successTally.missing)}`).toEqual([]);
    // The extra copies: acked SUCCESS without a second run; the platform does not redeliver a copy, so
    // one sent to the killed instance's connections may be lost with them.
    const victimConnections = new Set(
      sandbox.gateway
        .listConnections({ includeClosed: true })
        .filter((c) => c.state === 'closed')
        .map((c) => c.id),
    );
    const duplicates = log.filter((d) => d.duplicate);
    expect(duplicates.length).toBe(EVENTS / DUPLICATE_EVERY);
    const badCopies = duplicates.filter(
      (d) =>
        !(d.outcome === 'acked' && d.ack?.status === 'SUCCESS') && !victimConnections.has(d.connectionId),
    );
    expect(badCopies.map((d) => `${d.eventId}:${d.outcome}`)).toEqual([]);

    // Each event handled exactly once across the instances.
    const entries = await ledger.lrange(LEDGER, 0, -1);
    const handled = tally(
      entries.map((e) => e.split(' ')[0]!),
      ids,
    );
    const byPid = new Map<string, number>();
    for (const e of entries) byPid.set(e.split(' ')[1]!, (byPid.get(e.split(' ')[1]!) ?? 0) + 1);
    const redelivered = settled.filter((r) => r.attempts > 1).length;
    const summary = `${EVENTS} events in ${elapsedS.toFixed(1)} s; ledger ${entries.length} entries by pid ${JSON.stringify(Object.fromEntries(byPid))}; ${redelivered} events needed a redelivery; ${killInfo}`;
    console.log(`multi-instance: ${summary}`);
    expect(handled.missing, `never handled: ${listed(handled.missing)} (${summary})`).toEqual([]);
    expect(handled.doubled, `handled more than once: ${listed(handled.doubled)} (${summary})`).toEqual([]);
    expect(entries.length).toBe(EVENTS);

    // The killed instance died of SIGKILL; the others are up and saw the lease protocol at work.
    expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(survivors.map((s) => s.alive())).toEqual([true, true]);
    const scrapes = await Promise.all(survivors.map((s) => s.metrics()));
    const events = (outcome: string) =>
      sumOver(scrapes, 'dingtalk_stream_messages_total', { type: 'EVENT', outcome });
    console.log(
      `multi-instance: survivors answered success ${events('success')}, duplicate ${events('duplicate')}, in_progress ${events('in_progress')}, later ${events('later')}, failed ${events('failed')}, timeout ${events('timeout')}`,
    );
    expect(events('duplicate')).toBeGreaterThan(0);
    // The killed instance's claims were still leased when their redeliveries came: answered LATER.
    expect(events('in_progress')).toBeGreaterThan(0);
    expect(events('failed')).toBe(0);
    expect(sumOver(scrapes, 'dingtalk_stream_dedup_errors_total')).toBe(0);
  }, 240_000);

  it('the surviving instances stop on SIGTERM with exit code 0', async () => {
    const survivors = instances.filter((i) => i.alive());
    expect(survivors).toHaveLength(2);
    const exits = await Promise.all(survivors.map((s) => s.stop(30_000)));
    expect(exits.map((e) => [e.code, e.signal])).toEqual([
      [0, null],
      [0, null],
    ]);
    for (const s of survivors) expect(s.output()).toContain('dingtalk-skills: stopped');
  }, 60_000);
});

/** Handlers the frozen victim must hold (claimed, mid-way) when it is killed. */
const HELD_AT_KILL = 16;

/**
 * Freezes `victim` (SIGUSR2: its handlers stop before their ledger write), waits until the ledger
 * writes already under way landed and every event it wrote is marked done in the dedup store, and until
 * at least {@link HELD_AT_KILL} handlers are stuck mid-way (their events claimed by the victim, not yet
 * handled), then kills it with SIGKILL. Those events are what a dedup that marks events handled when
 * their handler starts would lose. Returns a line for the summary.
 */
async function freezeAndKill(victim: AppInstance): Promise<string> {
  victim.child.kill('SIGUSR2');
  await waitUntil(
    async () => (await ledger.lrange(`${LEDGER}:frozen`, 0, -1)).includes(String(victim.pid)),
    15_000,
    'the victim to freeze',
  );
  const mine = (await ledger.lrange(LEDGER, 0, -1))
    .filter((e) => e.endsWith(` ${victim.pid}`))
    .map((e) => e.split(' ')[0]!);
  let notDone: string[] = mine;
  await waitUntil(
    async () => {
      const still: string[] = [];
      for (let i = 0; i < notDone.length; i += 500) {
        const chunk = notDone.slice(i, i + 500);
        const values = await ledger.mget(...chunk.map((id) => DEDUP_PREFIX + id));
        values.forEach((v, j) => {
          if (v !== 'd') still.push(chunk[j]!);
        });
      }
      notDone = still;
      return still.length === 0;
    },
    15_000,
    "the victim's handled events to be marked done",
    () => `: ${listed(notDone)}`,
  );
  let inFlight = 0;
  await waitUntil(
    async () => {
      inFlight = sumOver([await victim.metrics()], 'dingtalk_stream_in_flight');
      return inFlight >= HELD_AT_KILL;
    },
    15_000,
    `the frozen victim to hold ${HELD_AT_KILL} handlers`,
    () => ` (it holds ${inFlight})`,
    10,
  );
  victim.child.kill('SIGKILL');
  await victim.exited;
  return `killed instance ${victim.name} (pid ${victim.pid}) with ${inFlight} handler(s) in flight after it handled ${mine.length} events`;
}
