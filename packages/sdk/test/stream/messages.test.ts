import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CallbackMessage, type StreamEvent, USER_AGENT } from '@dingtalk-skills/sdk';
import { readAckData, readCallbackResponse, readEventAck, Topic } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import { deferred, until, within } from '../support/wait.js';

const fx = streamFixturePerTest();

describe('connections/open', () => {
  it('posts the credentials, subscriptions derived from the handlers, ua and localIp as JSON', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    client.onCallback(Topic.GraphInvoke, () => null);
    client.onCallback(Topic.BotMessage, () => null);
    await client.start();
    const [req] = fx.gateway.openRequests;
    expect(req?.status).toBe(200);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.accept).toBe('application/json');
    expect(req?.body).toEqual({
      clientId: fx.gateway.clientId,
      clientSecret: fx.gateway.clientSecret,
      subscriptions: [
        { type: 'EVENT', topic: '*' },
        { type: 'CALLBACK', topic: Topic.GraphInvoke },
        { type: 'CALLBACK', topic: Topic.BotMessage },
      ],
      ua: USER_AGENT,
      localIp: '127.0.0.1',
    });
    expect(client.status().state).toBe('connected');
    expect(fx.logs.all()).not.toContain(fx.gateway.clientSecret);
    expect(fx.logs.all()).not.toContain(req!.ticket);
  });
});

describe('SYSTEM frames', () => {
  it('answers ping with the same data, on the same socket', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    await client.start();
    const [sock] = await fx.gateway.waitForOpenSockets(1);
    const ping = fx.gateway.pingFrame('123-dsfs');
    fx.gateway.send(sock!, ping);
    const { ack, socket } = await fx.gateway.waitForAck(ping.headers.messageId);
    expect(socket).toBe(sock);
    expect(ack.code).toBe(200);
    expect(ack.data).toBe('{"opaque":"123-dsfs"}');
  });

  it('ignores unknown SYSTEM topics (no ack), logging them at debug', async () => {
    const client = fx.client();
    client.onEvent(() => undefined);
    await client.start();
    const [sock] = await fx.gateway.waitForOpenSockets(1);
    const id = fx.gateway.send(sock!, fx.gateway.frame('SYSTEM', 'KEEPALIVE', '{}'))!;
    await fx.gateway.roundTrip(sock!);
    expect(fx.gateway.acksOf(id)).toEqual([]);
    expect(fx.logs.find('unknown SYSTEM topic')[0]).toMatchObject({ level: 20, topic: 'KEEPALIVE' });
  });
});

describe('EVENT', () => {
  it('hands the decoded event to the handler and acks SUCCESS', async () => {
    const seen: StreamEvent[] = [];
    const client = fx.client();
    client.onEvent((ev) => {
      seen.push(ev);
    });
    await client.start();
    const frame = fx.gateway.eventFrame(
      { userId: 'zhangsan' },
      { eventId: 'evt-1', eventType: 'user_add_org' },
    );
    const id = fx.gateway.deliver(frame);
    const { ack } = await fx.gateway.waitForAck(id);
    expect(readEventAck(ack)).toEqual({ status: 'SUCCESS', message: 'OK' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id: 'evt-1',
      messageId: id,
      eventType: 'user_add_org',
      data: { userId: 'zhangsan' },
    });
  });

  it("acks LATER when the async handler returns 'LATER'", async () => {
    const client = fx.client();
    client.onEvent(async () => 'LATER' as const);
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.eventFrame());
    const { ack } = await fx.gateway.waitForAck(id);
    expect(ack.code).toBe(200);
    expect(readEventAck(ack).status).toBe('LATER');
  });

  it('acks LATER when the handler throws, and logs the error with the message id', async () => {
    const client = fx.client();
    client.onEvent(() => {
      throw new Error('database down');
    });
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.eventFrame());
    const { ack } = await fx.gateway.waitForAck(id);
    expect(readEventAck(ack)).toEqual({ status: 'LATER', message: 'handler failed' });
    const [entry] = fx.logs.find('event handler failed');
    expect(entry).toMatchObject({ level: 50, messageId: id });
    expect(JSON.stringify(entry)).toContain('database down');
  });

  it('acks LATER when an async handler rejects', async () => {
    const client = fx.client();
    client.onEvent(async () => {
      throw new Error('nope');
    });
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.eventFrame());
    expect(readEventAck((await fx.gateway.waitForAck(id)).ack).status).toBe('LATER');
  });

  it('acks LATER at the deadline when the handler hangs, and logs when it settles late', async () => {
    const release = deferred();
    const client = fx.client({ handlerTimeoutMs: 150 });
    client.onEvent(() => release.promise);
    await client.start();
    const sentAt = Date.now();
    const id = fx.gateway.deliver(fx.gateway.eventFrame());
    const { ack, at } = await fx.gateway.waitForAck(id);
    expect(at - sentAt).toBeGreaterThanOrEqual(140);
    expect(readEventAck(ack)).toEqual({ status: 'LATER', message: 'handler timeout' });
    expect(client.status().abandoned).toBe(1);
    release.resolve();
    await until(() => client.status().abandoned === 0, 2_000, 'the abandoned handler to settle');
    expect(fx.logs.find('settled after its deadline')).toHaveLength(1);
    expect(fx.gateway.acksOf(id)).toHaveLength(1);
  });

  it('answers 404 when no event handler is registered', async () => {
    const client = fx.client();
    client.onCallback(Topic.BotMessage, () => null);
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.eventFrame());
    const { ack } = await fx.gateway.waitForAck(id);
    expect(ack.code).toBe(404);
  });
});

describe('CALLBACK', () => {
  it('passes topic, id, headers and raw data, and acks {"response": result}', async () => {
    const seen: CallbackMessage[] = [];
    const client = fx.client();
    client.onCallback(Topic.GraphInvoke, async (msg) => {
      seen.push(msg);
      return { statusLine: { code: 200, reasonPhrase: 'OK' }, headers: {}, body: '{"text":"晴天"}' };
    });
    await client.start();
    const data = { requestLine: { method: 'GET', uri: '/v1/actions/x' }, headers: {}, body: '{}' };
    const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.GraphInvoke, data));
    const { ack } = await fx.gateway.waitForAck(id);
    expect(ack.code).toBe(200);
    expect(readCallbackResponse(ack)).toEqual({
      statusLine: { code: 200, reasonPhrase: 'OK' },
      headers: {},
      body: '{"text":"晴天"}',
    });
    expect(seen[0]).toMatchObject({ topic: Topic.GraphInvoke, messageId: id, data: JSON.stringify(data) });
    expect(seen[0]?.headers.appId).toBe('test-app');
  });

  it('acks {"response": null} when a sync handler returns nothing', async () => {
    const client = fx.client();
    client.onCallback(Topic.BotMessage, () => undefined);
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.BotMessage));
    expect(readAckData((await fx.gateway.waitForAck(id)).ack)).toEqual({ response: null });
  });

  it('answers 404 for a topic without handler', async () => {
    const client = fx.client();
    client.onCallback(Topic.BotMessage, () => null);
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.callbackFrame('/v1.0/unknown/topic'));
    const { ack } = await fx.gateway.waitForAck(id);
    expect(ack).toMatchObject({ code: 404, message: 'topic not handled: /v1.0/unknown/topic' });
    expect(ack.data).toBeUndefined();
  });

  it('answers 500 "internal error" when the handler throws: no stack on the wire, full error in the log', async () => {
    const client = fx.client();
    client.onCallback(Topic.GraphInvoke, () => {
      throw new Error('secret internals at line 42');
    });
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.GraphInvoke));
    const { ack, raw } = await fx.gateway.waitForAck(id);
    expect(ack).toMatchObject({ code: 500, message: 'internal error' });
    expect(ack.data).toBeUndefined();
    expect(raw).not.toContain('secret internals');
    const [entry] = fx.logs.find('callback handler failed');
    expect(entry).toMatchObject({ level: 50, messageId: id, topic: Topic.GraphInvoke });
    expect(JSON.stringify(entry)).toContain('secret internals at line 42');
    expect(JSON.stringify(entry)).toContain('messages.test.ts'); // the stack
  });

  it('answers 500 when the result cannot be serialized to JSON', async () => {
    const client = fx.client();
    client.onCallback(Topic.GraphInvoke, () => ({ n: 10n }));
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.GraphInvoke));
    expect((await fx.gateway.waitForAck(id)).ack).toMatchObject({ code: 500, message: 'internal error' });
    expect(fx.logs.find('not JSON-serializable')).toHaveLength(1);
  });

  it('answers 500 "handler timeout" at the deadline', async () => {
    const release = deferred();
    const client = fx.client({ handlerTimeoutMs: 150 });
    client.onCallback(Topic.GraphInvoke, () => release.promise);
    await client.start();
    const sentAt = Date.now();
    const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.GraphInvoke));
    const { ack, at } = await fx.gateway.waitForAck(id);
    expect(at - sentAt).toBeGreaterThanOrEqual(140);
    expect(ack).toMatchObject({ code: 500, message: 'handler timeout' });
    release.resolve();
  });

  it("answers the registration's onTimeout response at its own deadline", async () => {
    const client = fx.client({ handlerTimeoutMs: 10_000 });
    client.onCallback(Topic.GraphInvoke, () => new Promise(() => undefined), {
      timeoutMs: 100,
      onTimeout: (msg) => ({
        statusLine: { code: 504, reasonPhrase: 'TIMEOUT' },
        headers: {},
        body: msg.messageId,
      }),
    });
    await client.start();
    const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.GraphInvoke));
    const { ack } = await fx.gateway.waitForAck(id, 3_000);
    expect(ack.code).toBe(200);
    expect(readCallbackResponse(ack)).toEqual({
      statusLine: { code: 504, reasonPhrase: 'TIMEOUT' },
      headers: {},
      body: id,
    });
  });
});

describe('the handler context: an abort signal', () => {
  it('aborts a fetch the handler made with it when the deadline passes (ERR_HANDLER_TIMEOUT), on the wire too', async () => {
    // A real loopback server that never answers; it notes when the client side goes away.
    let arrived: IncomingMessage | undefined;
    const closed = deferred();
    const server = createServer((req) => {
      arrived = req;
      req.socket.once('close', () => closed.resolve());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    try {
      let failure: unknown;
      const client = fx.client({ handlerTimeoutMs: 150 });
      client.onCallback(Topic.GraphInvoke, async (_msg, { signal }) => {
        try {
          return await fetch(url, { signal });
        } catch (err) {
          failure = err;
          throw err;
        }
      });
      await client.start();
      const id = fx.gateway.deliver(fx.gateway.callbackFrame(Topic.GraphInvoke));
      const { ack } = await fx.gateway.waitForAck(id);
      expect(ack).toMatchObject({ code: 500, message: 'handler timeout' });
      await within(closed.promise, 3_000, 'the abandoned request to be closed');
      expect(arrived?.url).toBe('/slow');
      await until(() => failure !== undefined, 2_000, 'the fetch to reject');
      expect(failure).toMatchObject({ code: 'ERR_HANDLER_TIMEOUT' });
      expect((failure as Error).message).toContain(id);
      await until(() => client.status().abandoned === 0, 2_000, 'the abandoned handler to settle');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('stays quiet for a handler that finishes in time, and is aborted with ERR_STOPPED when stop() gives up', async () => {
    const signals: AbortSignal[] = [];
    const client = fx.client({ stopTimeoutMs: 100, handlerTimeoutMs: 10_000 });
    client.onEvent((event, { signal }) => {
      signals.push(signal);
      if (event.data.hang === true) return new Promise(() => undefined);
      return undefined;
    });
    await client.start();
    const gw = fx.gateway;
    const quick = gw.deliver(gw.eventFrame({ hang: false }));
    expect(readEventAck((await gw.waitForAck(quick)).ack).status).toBe('SUCCESS');
    gw.deliver(gw.eventFrame({ hang: true }));
    await until(() => client.status().inFlight === 1, 3_000, 'the hanging handler to start');
    await within(client.stop(), 3_000, 'stop()');
    expect(signals).toHaveLength(2);
    expect(signals[0]!.aborted).toBe(false);
    expect(signals[1]!.aborted).toBe(true);
    expect(signals[1]!.reason).toMatchObject({ code: 'ERR_STOPPED' });
  });
});
