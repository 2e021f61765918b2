/**
 * EVENTs pushed while the app has no live connection are held (bounded, with a retention) and
 * delivered when the app connects; the delivery log shows how long each waited. Over the wire: the
 * control API (`POST /sandbox/events`, `GET /sandbox/deliveries`) and the SDK's StreamClient.
 */
import { SEED_APP } from '@dingtalk-skills/sandbox';
import { StreamClient, type StreamEvent, silentLogger } from '@dingtalk-skills/sdk';
import { describe, expect, it } from 'vitest';
import { eventually, http, sandboxPerTest } from './support.js';

const { start } = sandboxPerTest();

interface DeliveryView {
  type: string;
  eventId?: string;
  attempt: number;
  sentAt: number;
  heldSince?: number;
  heldMs?: number;
  outcome: string;
}

function client(url: string, seen: StreamEvent[]): StreamClient {
  return new StreamClient({
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    apiBase: url,
    logger: silentLogger(),
    localIp: '127.0.0.1',
    stopTimeoutMs: 1_000,
  }).onEvent((event) => {
    seen.push(event);
  });
}

describe('EVENTs pushed with no live connection', () => {
  it('are held (202), delivered in order when the SDK client connects, and the log shows the wait', async () => {
    const sandbox = await start();
    const first = await http<{ eventId: string; status: string; heldSince: number }>(
      sandbox,
      'POST',
      '/sandbox/events',
      { eventType: 'user_add_org', data: { n: 1 }, eventId: 'evt-held-1' },
    );
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ eventId: 'evt-held-1', status: 'held' });
    const heldSince = first.body.heldSince;
    expect(typeof heldSince).toBe('number');
    const second = await http(sandbox, 'POST', '/sandbox/events', {
      eventType: 'user_add_org',
      data: { n: 2 },
      eventId: 'evt-held-2',
    });
    expect(second.status).toBe(202);
    const held = await http<{ held: Array<{ eventId: string }> }>(sandbox, 'GET', '/sandbox/events/held');
    expect(held.body.held.map((h) => h.eventId)).toEqual(['evt-held-1', 'evt-held-2']);

    // Time passes on the sandbox clock while nobody is connected.
    const advanced = await http(sandbox, 'POST', '/sandbox/clock/advance', { ms: 60_000 });
    expect(advanced.status).toBe(200);

    const seen: StreamEvent[] = [];
    const app = client(sandbox.url, seen);
    await app.start();
    try {
      await eventually(() => (seen.length === 2 ? seen : undefined), 10_000);
      expect(seen.map((e) => e.id)).toEqual(['evt-held-1', 'evt-held-2']);
      expect(seen.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
      const log = await eventually(async () => {
        const res = await http<{ deliveries: DeliveryView[] }>(
          sandbox,
          'GET',
          '/sandbox/deliveries?type=EVENT',
        );
        const events = res.body.deliveries.filter((d) => d.type === 'EVENT');
        return events.length === 2 && events.every((d) => d.outcome === 'acked') ? events : undefined;
      }, 10_000);
      for (const d of log) {
        expect(d.heldSince).toBeTypeOf('number');
        if (d.eventId === 'evt-held-1') expect(d.heldSince).toBe(heldSince);
        expect(d.heldMs).toBe(d.sentAt - (d.heldSince ?? 0));
        expect(d.heldMs).toBeGreaterThanOrEqual(60_000);
        expect(d.attempt).toBe(1);
      }
      const after = await http<{ held: unknown[] }>(sandbox, 'GET', '/sandbox/events/held');
      expect(after.body.held).toEqual([]);
    } finally {
      await app.stop();
    }
  });

  it('answers 429 heldEventsFull beyond heldEventLimit and keeps the held ones', async () => {
    const sandbox = await start({ heldEventLimit: 2 });
    for (const n of [1, 2]) {
      const res = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: { n } });
      expect(res.status).toBe(202);
    }
    const over = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: { n: 3 } });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 'heldEventsFull' });
    expect(sandbox.gateway.heldEvents()).toHaveLength(2);
    expect(sandbox.gateway.stats().heldEvents).toBe(2);
  });

  it('drops a held event after heldEventRetentionMs (status expired) and delivers nothing later', async () => {
    const sandbox = await start({ heldEventRetentionMs: 60_000 });
    const pushed = sandbox.gateway.pushEvent({ eventType: 't', data: {}, eventId: 'evt-old' });
    expect(pushed.messageId).toBeUndefined();
    await http(sandbox, 'POST', '/sandbox/clock/advance', { ms: 60_001 });
    const result = await pushed.done;
    expect(result).toMatchObject({ eventId: 'evt-old', status: 'expired', attempts: 0 });
    expect(sandbox.gateway.heldEvents()).toEqual([]);
    const seen: StreamEvent[] = [];
    const app = client(sandbox.url, seen);
    await app.start();
    try {
      const fresh = sandbox.gateway.pushEvent({ eventType: 't', data: {}, eventId: 'evt-new' });
      expect((await fresh.done).status).toBe('acked');
      expect(seen.map((e) => e.id)).toEqual(['evt-new']);
    } finally {
      await app.stop();
    }
  });

  it('heldEventLimit 0 restores the immediate 409 noSubscriber', async () => {
    const sandbox = await start({ heldEventLimit: 0 });
    const res = await http(sandbox, 'POST', '/sandbox/events', { eventType: 't', data: {} });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'noSubscriber' });
  });
});
