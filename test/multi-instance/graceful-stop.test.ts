/**
 * Graceful operation of `dingtalk-skills start` (a real child process, Redis state, the sandbox's
 * gateway): SIGTERM stops intake, lets in-flight handlers finish within the drain deadline, acks them,
 * closes the connections and the store, and exits 0; past the deadline the rest is answered LATER; a
 * second SIGTERM exits at once. With two instances under skill traffic, a drain loses no CALLBACK: the
 * draining instance keeps answering the skill calls the gateway still sends it (issue 11, item 4).
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger, TokenCipher } from '@dingtalk-skills/sdk';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import { type AppInstance, startInstance, waitUntil } from './instance.js';

const GRAPH_INVOKE = '/v1.0/graph/api/invoke';

let redis: RedisServerHandle;
let ledger: Redis;
let sandbox: Sandbox;
let instance: AppInstance | undefined;
/** Extra instances of a test (killed after it). */
const others: AppInstance[] = [];
let run = 0;

beforeAll(async () => {
  redis = await startRedisServer();
  ledger = new Redis(redis.url);
  // Redeliveries far out, so what the test sees is the first delivery's answer.
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    eventRedelivery: [60_000],
  });
});

afterEach(async () => {
  for (const app of [instance, ...others.splice(0)]) {
    if (app?.alive()) app.child.kill('SIGKILL');
    await app?.exited;
  }
  instance = undefined;
});

afterAll(async () => {
  await sandbox?.close();
  ledger?.disconnect();
  await redis?.stop();
});

/** One instance with its own ledger key (or the given one, shared by several instances). */
async function start(args: string[], shared?: string): Promise<{ app: AppInstance; key: string }> {
  const key = shared ?? `graceful-${++run}`;
  const app = await startInstance({
    name: key,
    args,
    env: {
      DINGTALK_CLIENT_ID: SEED_APP.clientId,
      DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
      DINGTALK_API_BASE: sandbox.url,
      DINGTALK_STATE: redis.url,
      DINGTALK_TOKEN_KEY: TokenCipher.generateKey(),
      LEDGER_REDIS_URL: redis.url,
      LEDGER_KEY: key,
    },
  });
  if (instance?.alive()) others.push(app);
  else instance = app;
  return { app, key };
}

async function readyz(app: AppInstance): Promise<number> {
  return (await fetch(`${app.opsUrl}/readyz`)).status;
}

describe('dingtalk-skills start: SIGTERM', () => {
  it('drains an in-flight handler, acks it SUCCESS, takes nothing new, turns unready, exits 0', async () => {
    const { app, key } = await start(['--drain-timeout', '20000']);
    expect(await readyz(app)).toBe(200);
    const slow = sandbox.gateway.pushEvent({ eventType: 'test', data: { sleepMs: 1_500 } });
    await waitUntil(
      async () => (await ledger.lrange(`${key}:started`, 0, -1)).length === 1,
      10_000,
      'the handler to start',
    );
    app.child.kill('SIGTERM');
    await waitUntil(async () => (await readyz(app)) === 503, 5_000, '/readyz to turn 503');
    // Taken after SIGTERM: left unacked for another instance (or a restart), never handled here.
    const late = sandbox.gateway.pushEvent({ eventType: 'test', data: {} });
    const exit = await app.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain('draining 1 in-flight handler ');
    expect(app.output()).toContain('dingtalk-skills: stopped');
    const result = await slow.done;
    expect(result).toMatchObject({ status: 'acked', attempts: 1 });
    expect(await ledger.lrange(key, 0, -1)).toEqual([`${slow.eventId} ${app.pid}`]);
    const lateDeliveries = sandbox.gateway.deliveries().filter((d) => d.eventId === late.eventId);
    expect(lateDeliveries.map((d) => d.outcome)).toEqual(['connectionLost']);
    expect(await ledger.lrange(key, 0, -1)).not.toContain(`${late.eventId} ${app.pid}`);
  });

  it('past the drain deadline a handler still running is answered LATER, then the process exits 0', async () => {
    const { app, key } = await start(['--drain-timeout', '300']);
    const stuck = sandbox.gateway.pushEvent({ eventType: 'test', data: { hang: true } });
    await waitUntil(
      async () => (await ledger.lrange(`${key}:started`, 0, -1)).length === 1,
      10_000,
      'the handler to start',
    );
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    const first = sandbox.gateway.deliveries().find((d) => d.messageId === stuck.messageId);
    expect(first?.outcome).toBe('later');
    expect(first?.ack?.status).toBe('LATER');
    expect(JSON.parse(first?.ack?.data ?? '{}')).toMatchObject({ message: 'client stopping' });
  });

  it('a second SIGTERM exits at once, without waiting for the drain', async () => {
    const { app, key } = await start(['--drain-timeout', '600000']);
    sandbox.gateway.pushEvent({ eventType: 'test', data: { hang: true } });
    await waitUntil(
      async () => (await ledger.lrange(`${key}:started`, 0, -1)).length === 1,
      10_000,
      'the handler to start',
    );
    app.child.kill('SIGTERM');
    await waitUntil(() => app.output().includes('draining 1 in-flight'), 5_000, 'the drain to begin');
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 130, signal: null });
    expect(app.output()).toContain('SIGTERM again: exiting now');
  });
});

describe('two instances under skill traffic: a drain loses no CALLBACK', () => {
  it('the draining instance keeps answering the skill calls sent to it until its connection closes', async () => {
    const key = `graceful-${++run}`;
    const a = await start(['--drain-timeout', '60000'], key);
    const b = await start(['--drain-timeout', '60000'], key);
    await waitUntil(
      () => sandbox.gateway.listConnections().filter((c) => c.state === 'open').length === 2,
      20_000,
      'two open Stream connections',
    );
    // An EVENT that keeps one instance draining until the test says so.
    const hold = `${key}:release`;
    const held = sandbox.gateway.pushEvent({ eventType: 'test', data: { waitFor: hold } });
    await waitUntil(
      async () => (await ledger.lrange(`${key}:started`, 0, -1)).length === 1,
      10_000,
      'the holding handler to start',
    );
    const [started] = await ledger.lrange(`${key}:started`, 0, -1);
    const draining = [a.app, b.app].find((x) => started?.endsWith(` ${x.pid}`))!;
    const staying = draining === a.app ? b.app : a.app;
    const drainingConn = sandbox.gateway
      .deliveries()
      .find((d) => d.messageId === held.messageId)!.connectionId;
    draining.child.kill('SIGTERM');
    await waitUntil(async () => (await readyz(draining)) === 503, 5_000, '/readyz to turn 503');

    // 32 skill calls in waves while the instance drains; the gateway still sends about half to it.
    const results = [];
    for (let wave = 0; wave < 4; wave++)
      results.push(
        ...(await Promise.all(
          Array.from({ length: 8 }, () =>
            sandbox.gateway.invokeCallback({
              topic: GRAPH_INVOKE,
              data: {
                requestLine: {
                  method: 'GET',
                  uri: '/v1/actions/crm/me?userId=zhangsan&unionId=union-zhangsan&corpId=dingsandboxcorp',
                },
                headers: {},
                body: '',
              },
              timeoutMs: 8_000,
            }),
          ),
        )),
      );
    expect(draining.alive()).toBe(true); // the drain was still going on for all 32
    const lost = results.filter((r) => r.status !== 'answered');
    expect(lost, `${lost.length} of ${results.length} skill calls were not answered`).toEqual([]);
    const toDraining = results.filter((r) => r.status === 'answered' && r.connectionId === drainingConn);
    expect(toDraining.length).toBeGreaterThan(0);

    await ledger.set(hold, '1');
    expect(await draining.exited).toEqual({ code: 0, signal: null });
    expect(await held.done).toMatchObject({ status: 'acked', attempts: 1 });
    expect(staying.alive()).toBe(true);
  }, 120_000);
});
