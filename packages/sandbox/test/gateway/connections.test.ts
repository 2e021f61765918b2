import type { DeliveryRecord, Sandbox } from '@dingtalk-skills/sandbox';
import { describe, expect, it } from 'vitest';
import { eventually, http, type RawClient, sandboxPerTest, standardAck } from './support.js';

const { start, connect } = sandboxPerTest();

async function connectionId(s: Sandbox, client: RawClient): Promise<string> {
  // Learn the id from a ping's connectionId header.
  const list = s.gateway.listConnections({ includeClosed: false });
  for (const c of list) {
    const before = client.frames.length;
    s.gateway.ping(c.id);
    const frame = await client
      .nextFrame((f) => f.headers.topic === 'ping', 300, before)
      .catch(() => undefined);
    if (frame) return c.id;
  }
  throw new Error('connection not found');
}

describe('SYSTEM disconnect', () => {
  it('sends disconnect, stops delivery to the connection at once, and closes the socket after the grace period', async () => {
    const sandbox = await start({ disconnectGraceMs: 1_000 });
    const client = await connect(sandbox);
    const id = await connectionId(sandbox, client);
    const res = await http<{ connection: { state: string } }>(
      sandbox,
      'POST',
      `/sandbox/connections/${id}/disconnect`,
    );
    expect(res.status).toBe(200);
    expect(res.body.connection.state).toBe('disconnecting');
    const frame = await client.nextFrame((f) => f.headers.topic === 'disconnect');
    expect(frame.type).toBe('SYSTEM');
    expect(JSON.parse(frame.data)).toEqual({ reason: 'persistent connection is timeout' });
    // No delivery to a disconnecting connection: the event is held for the app's next connection.
    const push = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't' });
    expect(push.status).toBe(202);
    expect(push.body).toMatchObject({ status: 'held' });
    expect(client.received('EVENT')).toHaveLength(0);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    const info = await eventually(() => {
      const c = sandbox.gateway.getConnection(id);
      return c?.state === 'closed' ? c : undefined;
    });
    expect(info.disconnectReason).toBe('persistent connection is timeout');
  });

  it('delivers to another connection of the app while one is disconnecting (make before break)', async () => {
    const sandbox = await start({ disconnectGraceMs: 5_000 });
    const old = await connect(sandbox);
    const id = await connectionId(sandbox, old);
    sandbox.gateway.disconnect(id, 'load balancing');
    const fresh = await connect(sandbox);
    for (let i = 0; i < 20; i++)
      await sandbox.gateway.invokeCallback({ topic: '/v1.0/graph/api/invoke', data: { i } });
    expect(fresh.received('CALLBACK')).toHaveLength(20);
    expect(old.received('CALLBACK')).toHaveLength(0);
    const disconnect = old.received('SYSTEM', 'disconnect')[0];
    expect(JSON.parse(disconnect?.data ?? '{}')).toEqual({ reason: 'load balancing' });
  });

  it('sends disconnect when a connection reaches connectionLifetimeMs', async () => {
    const sandbox = await start({ connectionLifetimeMs: 100, disconnectGraceMs: 50 });
    const client = await connect(sandbox);
    const frame = await client.nextFrame((f) => f.headers.topic === 'disconnect');
    expect(JSON.parse(frame.data)).toEqual({ reason: 'persistent connection is timeout' });
    expect((await client.closed).code).toBe(1000);
  });

  it('records the client ack of a disconnect', async () => {
    const sandbox = await start({ disconnectGraceMs: 500 });
    const client = await connect(sandbox, {
      autoAck: (f, c) =>
        f.headers.topic === 'disconnect'
          ? {
              code: 200,
              headers: { messageId: f.headers.messageId, contentType: 'application/json' },
              message: 'OK',
            }
          : standardAck(f, c),
    });
    const id = await connectionId(sandbox, client);
    sandbox.gateway.disconnect(id);
    const record = await eventually(async () => {
      const res = await http<{ deliveries: DeliveryRecord[] }>(
        sandbox,
        'GET',
        '/sandbox/deliveries?type=SYSTEM',
      );
      const d = res.body.deliveries.find((x) => x.topic === 'disconnect');
      return d?.outcome === 'acked' ? d : undefined;
    });
    expect(record.ack).toMatchObject({ code: 200, variant: 'no-data' });
  });
});

describe('drop', () => {
  it('terminates the socket without a close frame (the client sees 1006)', async () => {
    const sandbox = await start();
    const client = await connect(sandbox);
    const id = await connectionId(sandbox, client);
    const res = await http<{ connection: { state: string } }>(
      sandbox,
      'POST',
      `/sandbox/connections/${id}/drop`,
    );
    expect(res.status).toBe(200);
    expect(res.body.connection.state).toBe('closed');
    expect((await client.closed).code).toBe(1006);
    expect(client.received('SYSTEM', 'disconnect')).toHaveLength(0);
    const list = await http<{ connections: Array<{ id: string; state: string }> }>(
      sandbox,
      'GET',
      '/sandbox/connections?state=open',
    );
    expect(list.body.connections).toHaveLength(0);
  });

  it('answers 404 for an unknown connection and 409 for a closed one', async () => {
    const sandbox = await start();
    const unknown = await http(sandbox, 'POST', '/sandbox/connections/nope/drop');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'unknownConnection' });
    const client = await connect(sandbox);
    const id = await connectionId(sandbox, client);
    await sandbox.gateway.drop(id);
    const again = await http(sandbox, 'POST', `/sandbox/connections/${id}/disconnect`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'connectionNotOpen' });
  });
});

describe('SYSTEM ping', () => {
  it('pings every pingIntervalMs with a fresh opaque and records the echoed acks', async () => {
    const sandbox = await start({ pingIntervalMs: 60 });
    const client = await connect(sandbox);
    await client.waitFor(() => client.received('SYSTEM', 'ping').length >= 4, 5_000);
    const pings = client.received('SYSTEM', 'ping');
    const opaques = pings.map((p) => (JSON.parse(p.data) as { opaque: string }).opaque);
    expect(new Set(opaques).size).toBe(opaques.length);
    for (const o of opaques) expect(o).toMatch(/^[0-9a-f-]{36}$/);
    // Cadence: consecutive pings are at least roughly one interval apart (not a speed assertion).
    const times = pings.map((p) => Number(p.headers.time));
    for (let i = 1; i < times.length; i++)
      expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(40);
    const log = await eventually(async () => {
      const res = await http<{ deliveries: DeliveryRecord[] }>(
        sandbox,
        'GET',
        '/sandbox/deliveries?type=SYSTEM',
      );
      const echoed = res.body.deliveries.filter((d) => d.outcome === 'echoed');
      return echoed.length >= 4 ? echoed : undefined;
    });
    expect(log[0]).toMatchObject({ topic: 'ping', ack: { code: 200 } });
  });

  it('maxMissedPings: closes a connection (1001) after that many unanswered pings in a row; an answer resets the count', async () => {
    const sandbox = await start({ ackTimeoutMs: 100, pingIntervalMs: 0, maxMissedPings: 2 });
    let answering = true;
    const client = await connect(sandbox, {
      autoAck: (f, c) => (answering || f.headers.topic !== 'ping' ? standardAck(f, c) : undefined),
    });
    const id = sandbox.gateway.listConnections()[0]!.id;
    const outcome = (messageId: string | undefined) =>
      eventually(
        () =>
          sandbox.gateway.deliveryLog.find(messageId ?? '')?.outcome !== 'pending' &&
          sandbox.gateway.deliveryLog.find(messageId ?? '')?.outcome,
      );
    answering = false;
    expect(await outcome(sandbox.gateway.ping(id))).toBe('timeout'); // missed 1
    answering = true;
    expect(await outcome(sandbox.gateway.ping(id))).toBe('echoed'); // count back to 0
    answering = false;
    expect(await outcome(sandbox.gateway.ping(id))).toBe('timeout'); // missed 1
    expect(sandbox.gateway.listConnections()[0]?.state).toBe('open');
    expect(await outcome(sandbox.gateway.ping(id))).toBe('timeout'); // missed 2: closed
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1001, reason: 'ping timeout' });
    await eventually(() => sandbox.gateway.stats().connections === 0);
  });

  it('by default never closes a connection for unanswered pings', async () => {
    const sandbox = await start({ ackTimeoutMs: 50, pingIntervalMs: 0 });
    const client = await connect(sandbox, {
      autoAck: (f, c) => (f.headers.topic === 'ping' ? undefined : standardAck(f, c)),
    });
    const id = sandbox.gateway.listConnections()[0]!.id;
    const ids = [1, 2, 3, 4, 5].map(() => sandbox.gateway.ping(id));
    await eventually(() =>
      ids.every((m) => sandbox.gateway.deliveryLog.find(m ?? '')?.outcome === 'timeout'),
    );
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(sandbox.gateway.stats().connections).toBe(1);
  });

  it('records a ping ack with the wrong opaque as an error, and a missing one as timeout', async () => {
    const sandbox = await start({ ackTimeoutMs: 1_000 });
    let n = 0;
    const client = await connect(sandbox, {
      autoAck: (f) => {
        if (f.headers.topic !== 'ping') return undefined;
        if (n++ > 0) return undefined; // answer only the first ping
        return {
          code: 200,
          headers: { messageId: f.headers.messageId, contentType: 'application/json' },
          message: 'OK',
          data: JSON.stringify({ opaque: 'not-the-one' }),
        };
      },
    });
    const id = sandbox.gateway.listConnections()[0]?.id ?? '';
    const wrong = sandbox.gateway.ping(id);
    const silent = sandbox.gateway.ping(id);
    await client.waitFor(() => client.received('SYSTEM', 'ping').length === 2);
    const records = await eventually(async () => {
      const res = await http<{ deliveries: DeliveryRecord[] }>(
        sandbox,
        'GET',
        '/sandbox/deliveries?type=SYSTEM',
      );
      const a = res.body.deliveries.find((d) => d.messageId === wrong);
      const b = res.body.deliveries.find((d) => d.messageId === silent);
      return a?.outcome === 'error' && b?.outcome === 'timeout' ? [a, b] : undefined;
    });
    expect(records[0]?.ack?.error).toContain('not-the-one');
  });

  it('sends no ping when pingIntervalMs is 0', async () => {
    const sandbox = await start({ pingIntervalMs: 0 });
    const client = await connect(sandbox);
    await sandbox.gateway.invokeCallback({ topic: '/v1.0/graph/api/invoke', data: {} });
    await new Promise((r) => setTimeout(r, 100));
    expect(client.received('SYSTEM')).toHaveLength(0);
    expect(sandbox.gateway.stats().timers).toBe(1); // the lifetime timer only
  });
});
