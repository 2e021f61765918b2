import { isCodedError } from '@dingtalk-skills/sdk';
import { readCallbackResponse, readEventAck, Topic } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import { deferred, nextEvent, observeFor, until, within } from '../support/wait.js';

const fx = streamFixturePerTest();

describe('abrupt drop', () => {
  it('reconnects with a new ticket after the TCP connection dies, and serves on the new socket', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    const first = await gw.waitForSocketNumber(1);
    const reconnected = nextEvent<[{ slot: number }]>(client, 'connected', 5_000);
    const disconnected = nextEvent<[{ slot: number; code: number }]>(client, 'disconnected', 5_000);
    gw.drop(first);
    expect((await disconnected)[0]).toMatchObject({ slot: 0, code: 1006 });
    await reconnected;
    const second = await gw.waitForSocketNumber(2);
    expect(second.ticket).not.toBe(first.ticket);
    expect(gw.openRequests).toHaveLength(2);
    const id = gw.deliver(gw.eventFrame());
    const { ack, socket } = await gw.waitForAck(id);
    expect(socket).toBe(second);
    expect(readEventAck(ack).status).toBe('SUCCESS');
    expect(client.status().state).toBe('connected');
  });

  it('logs (never throws) when a handler finishes after its socket is gone; the platform redelivers', async () => {
    const release = deferred();
    const client = fx.client();
    client.onCallback(Topic.GraphInvoke, async () => {
      await release.promise;
      return { ok: true };
    });
    await client.start();
    const gw = fx.gateway;
    const first = await gw.waitForSocketNumber(1);
    const id = gw.deliver(gw.callbackFrame(Topic.GraphInvoke));
    await until(() => client.status().inFlight === 1, 5_000, 'the handler to start');
    gw.drop(first);
    await gw.waitForSocketNumber(2);
    release.resolve();
    await until(() => fx.logs.find('ack not sent').length === 1, 5_000, 'the dropped-ack log line');
    expect(gw.acksOf(id)).toEqual([]);
    const again = gw.deliver(gw.callbackFrame(Topic.GraphInvoke));
    expect(readCallbackResponse((await gw.waitForAck(again)).ack)).toEqual({ ok: true });
  });
});

describe('no reconnect storm', () => {
  it('bounds connection attempts when the handshake keeps failing (default backoff: <= 8 in 3 s)', async () => {
    const gw = fx.gateway;
    gw.rejectHandshakesWith = 503;
    const errors: string[] = [];
    const client = fx.client({ reconnect: {} }); // library defaults
    client.on('error', (err) => errors.push(err.code));
    client.onEvent(() => undefined);
    const started = client.start();
    started.catch(() => undefined);
    const windowEnd = Date.now() + 3_000;
    await observeFor(3_000); // counting attempts over a window: nothing to await
    const attempts = gw.openRequests.filter((r) => r.at < windowEnd).length;
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(8);
    // One handshake per ticket: the last attempt's handshake may still be on its way when the window
    // closes, so wait for it, then check that no ticket was used twice.
    await until(() => gw.handshakes >= attempts, 2_000, 'the handshakes of the counted attempts');
    expect(gw.handshakes).toBeLessThanOrEqual(gw.openRequests.length);
    expect(errors.every((c) => c === 'ERR_CONNECT')).toBe(true);
    expect(client.status().connections[0]?.lastError).toContain('503');
    await client.stop();
    const err = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCodedError(err, 'ERR_STOPPED')).toBe(true);
  });

  it('grows the delay between attempts when connections/open answers 5xx, and connects once it recovers', async () => {
    const gw = fx.gateway;
    gw.openFailure = { status: 503 };
    const delays: number[] = [];
    const client = fx.client({ reconnect: { initialDelayMs: 20, maxDelayMs: 160, jitter: 'equal' } });
    client.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    client.onEvent(() => undefined);
    const started = client.start();
    await gw.waitFor(() => (gw.openRequests.length >= 5 ? true : undefined), '5 attempts');
    gw.openFailure = undefined;
    await within(started, 5_000, 'start() after recovery');
    // equal jitter: delay n lies in [base/2, base], base = min(160, 20 * 2^n)
    delays.slice(0, 4).forEach((d, n) => {
      const base = Math.min(160, 20 * 2 ** n);
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
    });
    expect(client.status().state).toBe('connected');
  });
});

describe('credentials rejected after the client was connected', () => {
  it('reports ERR_CREDENTIALS, keeps retrying with backoff (no storm), and reconnects once accepted again', async () => {
    const gw = fx.gateway;
    const errors: string[] = [];
    const client = fx.client({ reconnect: { initialDelayMs: 50, maxDelayMs: 400 } });
    client.on('error', (err) => errors.push(err.code));
    client.onEvent(() => undefined);
    await client.start();
    const first = await gw.waitForSocketNumber(1);
    gw.openFailure = { status: 401, body: { requestid: 'r-1', code: 'authFailed', message: '鉴权失败' } };
    gw.drop(first);
    await until(() => errors.length >= 3, 5_000, 'three rejected attempts');
    expect(errors.slice(0, 3)).toEqual(['ERR_CREDENTIALS', 'ERR_CREDENTIALS', 'ERR_CREDENTIALS']);
    const [a, b, c] = gw.openRequests.slice(1, 4).map((r) => r.at);
    // Equal jitter: each wait is at least half its base (100 ms, then 200 ms), minus timer slack.
    expect(b! - a!).toBeGreaterThanOrEqual(45);
    expect(c! - b!).toBeGreaterThanOrEqual(95);
    expect(client.status().state).toBe('reconnecting');
    gw.openFailure = undefined;
    const second = await gw.waitForSocketNumber(2, 5_000);
    const id = gw.deliver(gw.eventFrame());
    expect((await gw.waitForAck(id)).socket).toBe(second);
    expect(client.status().state).toBe('connected');
  });
});

describe('tickets', () => {
  it('uses every ticket once: each connection gets a fresh one, and reusing one is refused', async () => {
    const client = fx.client({ connections: 2 });
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    await gw.waitForOpenSockets(2);
    const tickets = gw.sockets.map((s) => s.ticket);
    expect(new Set(tickets).size).toBe(2);
    expect(gw.openRequests.map((r) => r.ticket)).toEqual(expect.arrayContaining(tickets));
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(gw.ticketUrl(tickets[0]!));
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('a used ticket opened a second connection')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    expect(gw.rejectedHandshakes).toEqual([{ ticket: tickets[0], status: 401 }]);
  });
});

describe('liveness watchdog', () => {
  it('terminates a socket whose peer stops answering pings, and reconnects', async () => {
    const client = fx.client({ keepalive: { intervalMs: 100, timeoutMs: 100 } });
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    const first = await gw.waitForSocketNumber(1);
    // Answering: the watchdog pings an idle socket and keeps it.
    let pings = 0;
    first.ws.on('ping', () => pings++);
    await until(() => pings >= 3, 3_000, 'three keepalive pings');
    expect(first.isOpen).toBe(true);
    expect(gw.sockets).toHaveLength(1);
    gw.answerPongs = false;
    const disconnected = nextEvent<[{ code: number }]>(client, 'disconnected', 3_000);
    await disconnected;
    await first.closed;
    expect(first.closeCode).toBe(1006);
    const second = await gw.waitForSocketNumber(2);
    gw.answerPongs = true;
    const id = gw.deliver(gw.eventFrame());
    expect((await gw.waitForAck(id)).socket).toBe(second);
    expect(fx.logs.find('no pong from the gateway')).toHaveLength(1);
  });
});

describe('SYSTEM disconnect: make before break', () => {
  it('opens the replacement first, keeps acking on the old socket, loses nothing, then closes the old one', async () => {
    const releases = new Map<string, () => void>();
    const handled: string[] = [];
    const client = fx.client();
    client.onCallback(Topic.GraphInvoke, async (msg) => {
      await new Promise<void>((resolve) => releases.set(msg.messageId, resolve));
      handled.push(msg.messageId);
      return { id: msg.messageId };
    });
    await client.start();
    const gw = fx.gateway;
    const old = await gw.waitForSocketNumber(1);
    // Two messages in flight on the old socket.
    const inFlight = [
      gw.deliver(gw.callbackFrame(Topic.GraphInvoke)),
      gw.deliver(gw.callbackFrame(Topic.GraphInvoke)),
    ];
    await until(() => releases.size === 2, 5_000, 'two handlers running');
    gw.sendDisconnect(old, { reason: 'persistent connection is timeout' });
    // The gateway no longer delivers to the old socket: these wait for the new one.
    const later = [
      gw.deliver(gw.callbackFrame(Topic.GraphInvoke)),
      gw.deliver(gw.callbackFrame(Topic.GraphInvoke)),
    ];
    const replacement = await gw.waitForSocketNumber(2);
    expect(old.isOpen).toBe(true); // not broken before the replacement was made
    await until(() => releases.size === 4, 5_000, 'the later messages on the new socket');
    for (const release of releases.values()) release();
    const acks = await Promise.all([...inFlight, ...later].map((id) => gw.waitForAck(id)));
    expect(acks.map((a) => a.socket)).toEqual([old, old, replacement, replacement]);
    expect(acks.map((a) => (readCallbackResponse(a.ack) as { id: string }).id)).toEqual([
      ...inFlight,
      ...later,
    ]);
    // Drained: the client closes the old socket itself (not waiting ~10 s for the server).
    await within(old.closed, 3_000, 'the old socket to close');
    expect(old.closeCode).toBe(1000);
    expect(old.closedAt!).toBeGreaterThanOrEqual(replacement.openedAt);
    expect(replacement.isOpen).toBe(true);
    expect(handled.sort()).toEqual([...inFlight, ...later].sort());
    expect(gw.openRequests).toHaveLength(2);
    await until(
      () => client.status().connections[0]?.retiring === 0,
      3_000,
      'the client to see the old socket closed',
    );
    expect(client.status().connections[0]?.state).toBe('connected');
  });

  it('closes an idle old socket as soon as the replacement is open', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    const old = await gw.waitForSocketNumber(1);
    const reconnecting = nextEvent<[{ delayMs: number; reason: string }]>(client, 'reconnecting', 3_000);
    const stateDuringHandover: string[] = [];
    client.once('reconnecting', () => stateDuringHandover.push(client.status().state));
    gw.sendDisconnect(old, { reason: 'lb' });
    expect((await reconnecting)[0]).toMatchObject({ delayMs: 0, reason: 'gateway disconnect: lb' });
    // The old socket still delivers during the handover: the client counts as connected.
    expect(stateDuringHandover).toEqual(['connected']);
    const replacement = await gw.waitForSocketNumber(2);
    await within(old.closed, 3_000, 'the old socket to close');
    expect(old.closedAt!).toBeGreaterThanOrEqual(replacement.openedAt);
    const id = gw.deliver(gw.eventFrame());
    expect((await gw.waitForAck(id)).socket).toBe(replacement);
  });

  it('when the server closes the old socket first, still serves on the replacement', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    await client.start();
    const gw = fx.gateway;
    gw.rejectHandshakesWith = 503; // the replacement cannot connect at first
    const old = await gw.waitForSocketNumber(1);
    gw.sendDisconnect(old, { closeAfterMs: 50 });
    await old.closed;
    gw.rejectHandshakesWith = undefined;
    const replacement = await gw.waitForSocketNumber(2);
    const id = gw.deliver(gw.eventFrame());
    expect((await gw.waitForAck(id)).socket).toBe(replacement);
    await until(
      () => client.status().connections[0]?.retiring === 0,
      3_000,
      'the retired socket to be forgotten',
    );
  });
});
