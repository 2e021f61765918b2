import { isCodedError, StreamClient, type StreamClientState, StreamConnectError } from '@dingtalk-skills/sdk';
import { readCallbackResponse, readEventAck, Topic } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { caught } from '../support/caught.js';
import { expectBackToBaseline, resourceCounts } from '../support/resources.js';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import { deferred, until, within } from '../support/wait.js';

const fx = streamFixturePerTest();

describe('config', () => {
  it('rejects an invalid config with ERR_CONFIG naming each problem, never echoing the secret', () => {
    let err: unknown;
    try {
      new StreamClient({
        clientId: '',
        clientSecret: 'super-secret-value',
        connections: 0,
        reconnect: { jitter: 'none' as 'full' },
        typo: true,
      } as never);
    } catch (e) {
      err = e;
    }
    expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain('clientId');
    expect(message).toContain('connections');
    expect(message).toContain('reconnect.jitter');
    expect(message).toContain('typo');
    expect(message).not.toContain('super-secret-value');
  });

  it('rejects a non-http apiBase and maxDelayMs below initialDelayMs', () => {
    expect(() => new StreamClient({ clientId: 'a', clientSecret: 'b', apiBase: 'ftp://x' })).toThrow(
      /apiBase/,
    );
    expect(
      () =>
        new StreamClient({
          clientId: 'a',
          clientSecret: 'b',
          reconnect: { initialDelayMs: 500, maxDelayMs: 100 },
        }),
    ).toThrow(/maxDelayMs/);
  });

  it('refuses to start without handlers, and handlers registered after start()', async () => {
    const empty = fx.client();
    expect(isCodedError(await caught(empty.start()), 'ERR_CONFIG')).toBe(true);
    const client = fx.client();
    client.onEvent(() => undefined);
    expect(() => client.onEvent(() => undefined)).toThrow(/already registered/);
    client.onCallback(Topic.BotMessage, () => null);
    expect(() => client.onCallback(Topic.BotMessage, () => null)).toThrow(/already registered/);
    await client.start();
    expect(() => client.onCallback(Topic.GraphInvoke, () => null)).toThrow(/before start\(\)/);
    expect(fx.gateway.openRequests[0]?.body?.subscriptions).toEqual([
      { type: 'EVENT', topic: '*' },
      { type: 'CALLBACK', topic: Topic.BotMessage },
    ]);
  });
});

describe('start', () => {
  it('rejects with ERR_CREDENTIALS on authFailed, without retrying, and ends stopped with nothing left open', async () => {
    const baseline = resourceCounts();
    const errors: unknown[] = [];
    const client = fx.client({ clientSecret: 'wrong-secret-123' });
    client.on('error', (e) => errors.push(e));
    client.onEvent(() => undefined);
    const err = await caught(client.start());
    expect(err).toBeInstanceOf(StreamConnectError);
    expect(err).toMatchObject({
      code: 'ERR_CREDENTIALS',
      status: 401,
      platformCode: 'authFailed',
      permanent: true,
    });
    expect((err as Error).message).not.toContain('wrong-secret-123');
    expect(errors).toEqual([err]);
    expect(fx.gateway.openRequests).toHaveLength(1);
    expect(fx.gateway.handshakes).toBe(0);
    expect(client.status().state).toBe('stopped');
    expect(fx.logs.all()).not.toContain('wrong-secret-123');
    await expectBackToBaseline(baseline);
  });

  it('does not crash on an error with no error listener (it is logged)', async () => {
    const client = fx.client({ clientSecret: 'wrong-secret-456' });
    client.onEvent(() => undefined);
    expect(isCodedError(await caught(client.start()), 'ERR_CREDENTIALS')).toBe(true);
    expect(fx.logs.find('rejected the app credentials')[0]).toMatchObject({ level: 50 });
  });

  it('opens a pool of N connections, each with its own ticket, and acks on the socket each frame came in on', async () => {
    const client = fx.client({ connections: 3 });
    const connected: number[] = [];
    client.on('connected', ({ slot }) => connected.push(slot));
    client.onCallback(Topic.BotMessage, (msg) => msg.messageId);
    await client.start();
    const gw = fx.gateway;
    const sockets = await gw.waitForOpenSockets(3);
    expect(gw.openRequests).toHaveLength(3);
    expect(new Set(sockets.map((s) => s.ticket)).size).toBe(3);
    await until(() => connected.length === 3, 3_000, 'three connected events');
    expect(connected.sort()).toEqual([0, 1, 2]);
    for (const s of sockets) {
      const id = gw.send(s, gw.callbackFrame(Topic.BotMessage))!;
      const { ack, socket } = await gw.waitForAck(id);
      expect(socket).toBe(s);
      expect(readCallbackResponse(ack)).toBe(id);
    }
    const status = client.status();
    expect(status.state).toBe('connected');
    expect(status.connections.map((c) => c.state)).toEqual(['connected', 'connected', 'connected']);
  });

  it('is idempotent, and a stopped client cannot start again', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    const a = client.start();
    expect(client.start()).toBe(a);
    await a;
    await client.stop();
    expect(isCodedError(await caught(client.start()), 'ERR_STOPPED')).toBe(true);
  });

  it('reports its state through status() and events', async () => {
    const states: StreamClientState[] = [];
    const client = fx.client();
    client.onEvent(() => undefined);
    expect(client.status()).toMatchObject({ state: 'idle', inFlight: 0 });
    client.on('connecting', () => states.push(client.status().state));
    client.on('connected', () => states.push(client.status().state));
    client.on('stopped', () => states.push(client.status().state));
    await client.start();
    await client.stop();
    expect(states).toEqual(['connecting', 'connected', 'stopped']);
    expect(client.status().connections[0]?.state).toBe('stopped');
  });
});

describe('stop', () => {
  it('drains: in-flight handlers finish and are acked before the socket closes; later EVENTs get no handler and no ack', async () => {
    const release = deferred();
    const handled: string[] = [];
    const client = fx.client();
    client.onEvent(async (ev) => {
      handled.push(ev.messageId);
      await release.promise;
    });
    await client.start();
    const gw = fx.gateway;
    const [sock] = await gw.waitForOpenSockets(1);
    const inFlight = gw.deliver(gw.eventFrame());
    await until(() => client.status().inFlight === 1, 3_000, 'the handler to start');
    const stopped = client.stop();
    expect(client.status().state).toBe('stopping');
    const late = gw.deliver(gw.eventFrame());
    await gw.roundTrip(sock!); // `late` has been read
    expect(handled).toEqual([inFlight]);
    expect(sock!.isOpen).toBe(true); // waiting for the in-flight handler
    release.resolve();
    await within(stopped, 5_000, 'stop()');
    const ack = gw.ackOf(inFlight);
    expect(readEventAck(ack!.ack).status).toBe('SUCCESS');
    await sock!.closed;
    expect(ack!.at).toBeLessThanOrEqual(sock!.closedAt!);
    expect(sock!.closeCode).toBe(1000);
    expect(gw.acksOf(late)).toEqual([]);
    expect(handled).toEqual([inFlight]);
    expect(client.status().state).toBe('stopped');
  });

  it('keeps answering CALLBACKs that arrive while draining (the platform does not redeliver them); EVENTs stay unacked', async () => {
    const release = deferred();
    const client = fx.client({ maxInFlight: 4 });
    client.onEvent(() => release.promise);
    client.onCallback(Topic.GraphInvoke, async (msg) => {
      await new Promise((r) => setTimeout(r, 5));
      return `answer ${msg.messageId}`;
    });
    await client.start();
    const gw = fx.gateway;
    const [sock] = await gw.waitForOpenSockets(1);
    const inFlight = gw.deliver(gw.eventFrame());
    await until(() => client.status().inFlight === 1, 3_000, 'the event handler to start');
    const stopped = client.stop();
    // More CALLBACKs than handler slots: some wait in the queue, all are answered.
    const calls = Array.from({ length: 12 }, () => gw.deliver(gw.callbackFrame(Topic.GraphInvoke)));
    const lateEvent = gw.deliver(gw.eventFrame());
    for (const id of calls) {
      const ack = await gw.waitForAck(id);
      expect(readCallbackResponse(ack.ack)).toBe(`answer ${id}`);
      expect(ack.socket).toBe(sock);
    }
    expect(client.status().state).toBe('stopping');
    release.resolve();
    await within(stopped, 5_000, 'stop()');
    expect(readEventAck(gw.ackOf(inFlight)!.ack).status).toBe('SUCCESS');
    expect(gw.acksOf(lateEvent)).toEqual([]);
  });

  it('past stopTimeoutMs answers EVENTs LATER but lets a running CALLBACK finish within its own deadline', async () => {
    const release = deferred<string>();
    const client = fx.client({ stopTimeoutMs: 100, handlerTimeoutMs: 10_000 });
    client.onEvent(() => new Promise(() => undefined));
    client.onCallback(Topic.GraphInvoke, () => release.promise, { timeoutMs: 10_000 });
    await client.start();
    const gw = fx.gateway;
    const [sock] = await gw.waitForOpenSockets(1);
    const ev = gw.deliver(gw.eventFrame());
    await until(() => client.status().inFlight === 1, 3_000, 'the event handler to start');
    const stopped = client.stop();
    const call = gw.deliver(gw.callbackFrame(Topic.GraphInvoke));
    await gw.waitForAck(ev, 3_000);
    expect(readEventAck(gw.ackOf(ev)!.ack)).toEqual({ status: 'LATER', message: 'client stopping' });
    await gw.roundTrip(sock!); // the CALLBACK has been read and is running
    expect(gw.acksOf(call)).toEqual([]);
    release.resolve('late but in time');
    await within(stopped, 5_000, 'stop()');
    expect(readCallbackResponse(gw.ackOf(call)!.ack)).toBe('late but in time');
  });

  it('answers handlers that outlive stopTimeoutMs as timed out (EVENT LATER), then closes', async () => {
    const client = fx.client({ stopTimeoutMs: 100, handlerTimeoutMs: 10_000 });
    client.onEvent(() => new Promise(() => undefined));
    await client.start();
    const gw = fx.gateway;
    const id = gw.deliver(gw.eventFrame());
    await until(() => client.status().inFlight === 1, 3_000, 'the handler to start');
    await within(client.stop(), 3_000, 'stop()');
    expect(readEventAck(gw.ackOf(id)!.ack)).toEqual({ status: 'LATER', message: 'client stopping' });
  });

  it('leaves no timers and no sockets behind', async () => {
    const baseline = resourceCounts();
    const release = deferred();
    const client = fx.client({ connections: 2, keepalive: { intervalMs: 50, timeoutMs: 50 } });
    client.onEvent(() => undefined);
    client.onCallback(Topic.GraphInvoke, () => release.promise.then(() => 'done'));
    await client.start();
    const gw = fx.gateway;
    const sockets = await gw.waitForOpenSockets(2);
    gw.drop(sockets[0]!); // a reconnect in progress or scheduled
    const busy = gw.deliver(gw.callbackFrame(Topic.GraphInvoke));
    for (let i = 0; i < 20; i++) gw.deliver(gw.eventFrame());
    await until(() => client.status().inFlight === 1, 3_000, 'the callback handler to start');
    expect(resourceCounts().Timeout).toBeGreaterThan(baseline.Timeout);
    const stopped = client.stop();
    release.resolve();
    await within(stopped, 5_000, 'stop()');
    expect(readCallbackResponse(gw.ackOf(busy)!.ack)).toBe('done');
    await expectBackToBaseline(baseline);
  });

  it('stops a client that is still retrying: start() rejects ERR_STOPPED, nothing is left open', async () => {
    const baseline = resourceCounts();
    fx.gateway.openFailure = { status: 502 };
    const client = fx.client();
    client.onEvent(() => undefined);
    const started = client.start();
    await fx.gateway.waitFor(() => (fx.gateway.openRequests.length >= 2 ? true : undefined), 'two attempts');
    await client.stop();
    expect(isCodedError(await caught(started), 'ERR_STOPPED')).toBe(true);
    const attempts = fx.gateway.openRequests.length;
    await expectBackToBaseline(baseline);
    expect(fx.gateway.openRequests).toHaveLength(attempts);
  });
});
