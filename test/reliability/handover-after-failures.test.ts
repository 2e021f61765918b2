/**
 * Regressions (found by the long chaos soak). After a few dropped connections the client's backoff counter
 * was above zero, and a SYSTEM `disconnect` then waited out the backoff before opening the replacement.
 * The gateway sends nothing new to a connection it asked to go, so the app got no messages for the whole
 * delay (up to 15 s in the soak). A disconnect now opens the replacement at once; only a connection asked
 * to go within a second of opening, while connections are failing, still backs off (no reconnect loop
 * against a gateway that disconnects every new connection). And the backoff now resets after a connection
 * stayed up 2 s (it was 10 s: with a drop every ~9 s the delay climbed to its 30 s cap).
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { StreamClient, silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent } from '../../packages/sdk/test/support/wait.js';

let sandbox: Sandbox;
let client: StreamClient | undefined;

beforeAll(async () => {
  sandbox = await createSandbox({
    ephemeral: true,
    logger: silentLogger(),
    pingIntervalMs: 0,
    disconnectGraceMs: 5_000,
  });
});
afterEach(async () => {
  await client?.stop();
  client = undefined;
});
afterAll(async () => {
  await sandbox.close();
});

const openConnection = async () =>
  (
    await sandbox.gateway.waitForConnection(
      { clientId: SEED_APP.clientId, type: 'EVENT', topic: '*' },
      10_000,
    )
  ).id;

/**
 * A client whose backoff is long (first retry 0.5-1 s, then 1-2 s, 2-4 s, ...) and never resets during
 * the test, or resets after the default `resetAfterMs`.
 */
async function startClient(resetAfterMs: number | 'default' = 600_000): Promise<StreamClient> {
  client = new StreamClient({
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    apiBase: sandbox.url,
    logger: silentLogger(),
    localIp: '127.0.0.1',
    reconnect: {
      initialDelayMs: 1_000,
      maxDelayMs: 8_000,
      ...(resetAfterMs === 'default' ? {} : { resetAfterMs }),
    },
  }).onEvent(() => undefined);
  await client.start();
  return client;
}

type Reconnecting = [{ slot: number; attempt: number; delayMs: number; reason: string }];

describe('handover after failed connections', () => {
  it('a disconnect after drops opens the replacement at once (delay 0), and the app gets messages again', async () => {
    const c = await startClient();
    // Two drops: the backoff counter climbs (each reconnect waits 0.5-1 s, then 1-2 s).
    for (let i = 0; i < 2; i++) {
      const id = await openConnection();
      const next = nextEvent<Reconnecting>(c, 'reconnecting', 5_000);
      await sandbox.gateway.drop(id);
      expect((await next)[0].delayMs).toBeGreaterThan(0);
    }
    const id = await openConnection();
    expect(c.status().connections[0]?.attempt).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_100)); // up for more than a second
    const next = nextEvent<Reconnecting>(c, 'reconnecting', 5_000);
    sandbox.gateway.disconnect(id, 'rotation');
    const [info] = await next;
    expect(info).toMatchObject({ delayMs: 0, reason: 'gateway disconnect: rotation' });
    const replacement = await openConnection();
    expect(replacement).not.toBe(id);
    const result = await sandbox.gateway.pushEvent({ clientId: SEED_APP.clientId, eventType: 'after' }).done;
    expect(result.status).toBe('acked');
  });

  it('a connection asked to go right after it opened, while connections are failing, still backs off', async () => {
    const c = await startClient();
    const first = await openConnection();
    const dropped = nextEvent<Reconnecting>(c, 'reconnecting', 5_000);
    await sandbox.gateway.drop(first);
    await dropped;
    const id = await openConnection();
    const next = nextEvent<Reconnecting>(c, 'reconnecting', 5_000);
    sandbox.gateway.disconnect(id, 'again');
    expect((await next)[0].delayMs).toBeGreaterThan(0);
  });

  it('a connection that stayed up 2 s (the default resetAfterMs) resets the backoff: the next drop retries at the first step', async () => {
    const c = await startClient('default');
    for (let i = 0; i < 2; i++) {
      const id = await openConnection();
      const next = nextEvent<Reconnecting>(c, 'reconnecting', 5_000);
      await sandbox.gateway.drop(id);
      await next;
    }
    const id = await openConnection();
    await new Promise((r) => setTimeout(r, 2_100));
    const next = nextEvent<Reconnecting>(c, 'reconnecting', 5_000);
    await sandbox.gateway.drop(id);
    // The first step is 0.5-1 s; the third (no reset) would be 2-4 s.
    expect((await next)[0].delayMs).toBeLessThanOrEqual(1_000);
  });
});
