/**
 * A shared state store that stops answering (issue 11 #3): Debian's redis-server on a free loopback port
 * is frozen with SIGSTOP (as in a failover stall: the TCP connection stays open, nothing answers) under a
 * running `dingtalk-skills start` app connected to the sandbox over the wire.
 *
 * Before the fix every store call hung: EVENTs were never acked, in-flight climbed to its limit, `/readyz`
 * stayed 200, nothing was logged and no counter moved. Now every store call is bounded and a circuit
 * breaker fails fast: EVENTs are handled anyway (docs/reliability.md: "If the store fails, handlers run anyway") and
 * acked on their first delivery, a skill that needs no stored state answers normally, a skill that needs
 * the user's stored token answers a defined 503, the outage is logged and counted, `/readyz` answers 503
 * naming the store, and after SIGCONT it is ready again.
 */
import { fileURLToPath } from 'node:url';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger, TokenCipher } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sumOf } from '../../packages/sdk/test/metrics/prom-text.js';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import { type AppInstance, startInstance, waitUntil } from '../multi-instance/instance.js';

const APP = fileURLToPath(new URL('./fixtures/store-outage-app.ts', import.meta.url));
const CLIENT_ID = SEED_APP.clientId;
/** The skill deadline the sandbox gives the app (the platform waits this long for an answer). */
const CALLBACK_DEADLINE_MS = 10_000;
/** An EVENT not acked within this long is redelivered: each must be acked on its first delivery. */
const ACK_DEADLINE_MS = 10_000;
const EVENTS = 30;
const PINGS = 20;

let redis: RedisServerHandle;
let sandbox: Sandbox;
let app: AppInstance;
let frozen = false;

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    ackTimeoutMs: ACK_DEADLINE_MS,
    callbackTimeoutMs: CALLBACK_DEADLINE_MS,
  });
  app = await startInstance({
    name: 'outage',
    app: APP,
    args: ['--handler-timeout', '15000'],
    env: {
      DINGTALK_CLIENT_ID: CLIENT_ID,
      DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
      DINGTALK_API_BASE: sandbox.url,
      DINGTALK_STATE: redis.url,
      DINGTALK_TOKEN_KEY: `k1:${TokenCipher.generateKey()}`,
    },
  });
}, 60_000);

afterAll(async () => {
  if (redis && frozen) process.kill(redis.pid, 'SIGCONT');
  if (app?.alive()) app.child.kill('SIGKILL');
  await app?.exited;
  await sandbox?.close();
  await redis?.stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function invoke(uri: string): Promise<Answer> {
  const result = await sandbox.gateway.invokeCallback({
    topic: '/v1.0/graph/api/invoke',
    data: { requestLine: { method: 'GET', uri }, headers: {}, body: '' },
    timeoutMs: CALLBACK_DEADLINE_MS,
  });
  if (result.status !== 'answered') return { status: 0, body: { callback: result.status } };
  const response = result.response as { statusLine: { code: number }; body: string };
  return { status: response.statusLine.code, body: JSON.parse(response.body) as Record<string, unknown> };
}

const CONTEXT = 'userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp';
const whoami = (code?: string) =>
  invoke(`/v1/actions/crm/me?${CONTEXT}${code ? `&oauthAuthCode=${code}` : ''}`);
const ping = () => invoke(`/v1/actions/outage/ping?${CONTEXT}`);

async function readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${app.opsUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function pushEvents(prefix: string, n: number) {
  const pushed = Array.from({ length: n }, (_, i) =>
    sandbox.gateway.pushEvent({ eventType: 'outage_test', eventId: `${prefix}-${i}`, data: { n: i } }),
  );
  return Promise.all(pushed.map((p) => p.done));
}

describe('the Redis state store freezes (SIGSTOP) under a running app', () => {
  it('before: the app is ready, events are handled with dedup, the user is authorized', async () => {
    const code = sandbox.platform.authorize({
      userId: 'zhangsan',
      clientId: CLIENT_ID,
      scopes: ['Contact.User.Read'],
    }).code;
    const first = await whoami(code);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect((await readyz()).status).toBe(200);
    const results = await pushEvents('before', 5);
    expect(results.map((r) => `${r.status}/${r.attempts}`)).toEqual(Array(5).fill('acked/1'));
  }, 60_000);

  it('during: events are handled and acked on their first delivery, skills answer (503 when they need the store), /readyz is 503 naming the store, the outage is logged and counted', async () => {
    process.kill(redis.pid, 'SIGSTOP');
    frozen = true;
    const [events, pings, whoamis] = await Promise.all([
      pushEvents('during', EVENTS),
      Promise.all(Array.from({ length: PINGS }, () => ping())),
      Promise.all(Array.from({ length: 5 }, () => whoami())),
    ]);
    // Every EVENT acked on its first delivery (its handler ran, without dedup: fail open, as documented).
    expect(
      events.map((r) => `${r.eventId}:${r.status}/${r.attempts}`).filter((s) => !s.endsWith(':acked/1')),
    ).toEqual([]);
    const acks = sandbox.gateway
      .deliveries(0, 10_000)
      .filter((d) => d.type === 'EVENT' && d.eventId?.startsWith('during-'));
    expect(acks.filter((d) => d.ack?.status !== 'SUCCESS').map((d) => d.eventId)).toEqual([]);
    // A skill that needs nothing stored answers as usual; one that needs the stored token answers 503.
    expect(pings.map((p) => `${p.status} ${JSON.stringify(p.body)}`)).toEqual(
      Array(PINGS).fill('200 {"pong":true}'),
    );
    for (const w of whoamis) {
      expect(w.status, JSON.stringify(w.body)).toBe(503);
      expect(JSON.stringify(w.body)).toContain('StateUnavailable');
    }

    // Readiness says the store is down, and why.
    let last = await readyz();
    await waitUntil(
      async () => {
        last = await readyz();
        return last.status === 503;
      },
      15_000,
      '/readyz to answer 503',
      () => ` (last: ${last.status} ${JSON.stringify(last.body)})`,
    );
    expect(last.body.status).toBe('not ready');
    expect(String(last.body.reason)).toContain('redis state store is not answering');
    expect(last.body.storeHealthy).toBe(false);

    // Logged (once per outage, not once per event) and counted.
    await waitUntil(
      () => app.output().includes('state store is not answering: circuit open'),
      10_000,
      'the outage log line',
    );
    const dedupLines = app
      .output()
      .split('\n')
      .filter((l) => l.includes('dedup store failed; handling without dedup'));
    expect(dedupLines.length).toBeGreaterThan(0);
    expect(dedupLines.length).toBeLessThan(EVENTS);
    const scrape = await app.metrics();
    expect(sumOf(scrape, 'dingtalk_state_store_errors_total')).toBeGreaterThan(0);
    expect(sumOf(scrape, 'dingtalk_state_store_errors_total', { reason: 'circuit_open' })).toBeGreaterThan(0);
    expect(sumOf(scrape, 'dingtalk_stream_dedup_errors_total', { operation: 'claim' })).toBeGreaterThan(0);
    expect(sumOf(scrape, 'dingtalk_state_store_up')).toBe(0);
    expect(app.alive()).toBe(true);
  }, 90_000);

  it('after SIGCONT: ready again, the recovery is logged, events are deduped through the store again', async () => {
    process.kill(redis.pid, 'SIGCONT');
    frozen = false;
    let last = await readyz();
    await waitUntil(
      async () => {
        last = await readyz();
        return last.status === 200;
      },
      20_000,
      '/readyz to answer 200 again',
      () => ` (last: ${last.status} ${JSON.stringify(last.body)})`,
    );
    await waitUntil(
      () => app.output().includes('state store answers again'),
      10_000,
      'the recovery log line',
      () => `: ${app.output().slice(-2500)}`,
    );
    const before = sumOf(await app.metrics(), 'dingtalk_stream_dedup_errors_total');
    const results = await pushEvents('after', 5);
    expect(results.map((r) => `${r.status}/${r.attempts}`)).toEqual(Array(5).fill('acked/1'));
    const scrape = await app.metrics();
    expect(sumOf(scrape, 'dingtalk_stream_dedup_errors_total')).toBe(before);
    expect(sumOf(scrape, 'dingtalk_state_store_up')).toBe(1);
    const again = await whoami();
    expect(again.status, JSON.stringify(again.body)).toBe(200);
  }, 60_000);
});
