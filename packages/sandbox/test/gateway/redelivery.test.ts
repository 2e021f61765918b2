import type { DeliveryRecord, EventResult, Sandbox } from '@dingtalk-skills/sandbox';
import { describe, expect, it } from 'vitest';
import { type AutoAck, eventually, http, type RawClient, sandboxPerTest, standardAck } from './support.js';

const { start, connect: connectClient } = sandboxPerTest();

const FAST = { ackTimeoutMs: 150, eventRedelivery: [50, 80, 100], callbackTimeoutMs: 300 };

function connect(s: Sandbox, autoAck: AutoAck | null = standardAck): Promise<RawClient> {
  return connectClient(s, { autoAck });
}

async function pushAndWait(s: Sandbox, body: Record<string, unknown>): Promise<EventResult> {
  const res = await http<{ result: EventResult }>(s, 'POST', '/sandbox/events', { ...body, wait: true });
  expect(res.status).toBe(200);
  return res.body.result;
}

async function eventLog(s: Sandbox, eventId: string): Promise<DeliveryRecord[]> {
  const res = await http<{ deliveries: DeliveryRecord[] }>(
    s,
    'GET',
    `/sandbox/deliveries?eventId=${eventId}`,
  );
  return res.body.deliveries;
}

describe('EVENT redelivery', () => {
  it('redelivers an unacked event per the schedule with the same eventId and new messageIds, then gives up', async () => {
    const sandbox = await start(FAST);
    const client = await connect(sandbox, null);
    const result = await pushAndWait(sandbox, { eventType: 't', data: { n: 1 }, eventId: 'evt-unacked' });
    expect(result.status).toBe('failed');
    expect(result.attempts).toBe(1 + FAST.eventRedelivery.length);
    const frames = client.received('EVENT');
    expect(frames).toHaveLength(4);
    expect(new Set(frames.map((f) => f.headers.eventId))).toEqual(new Set(['evt-unacked']));
    expect(new Set(frames.map((f) => f.headers.messageId)).size).toBe(4);
    const log = await eventLog(sandbox, 'evt-unacked');
    expect(log.map((d) => d.attempt)).toEqual([1, 2, 3, 4]);
    expect(log.map((d) => d.outcome)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    expect(sandbox.gateway.stats().activeEvents).toBe(0);
  });

  it('redelivers after LATER and stops once acked SUCCESS', async () => {
    const sandbox = await start({ ...FAST, ackTimeoutMs: 5_000 });
    let n = 0;
    await connect(sandbox, (f) => {
      if (f.type !== 'EVENT') return undefined;
      const status = ++n < 3 ? 'LATER' : 'SUCCESS';
      return {
        code: 200,
        headers: { messageId: f.headers.messageId, contentType: 'application/json' },
        message: 'OK',
        data: JSON.stringify({ status, message: status }),
      };
    });
    const result = await pushAndWait(sandbox, { eventType: 't', data: {} });
    expect(result).toMatchObject({ status: 'acked', attempts: 3 });
    const log = await eventLog(sandbox, result.eventId);
    expect(log.map((d) => d.outcome)).toEqual(['later', 'later', 'acked']);
    expect(log.map((d) => d.ack?.status)).toEqual(['LATER', 'LATER', 'SUCCESS']);
  });

  it('redelivers to another live connection when the first one is gone', async () => {
    // A long ack timeout: the drop, not the timeout, ends attempt 1.
    const sandbox = await start({ ...FAST, ackTimeoutMs: 10_000 });
    const silent = await connect(sandbox, null);
    const pushed = sandbox.gateway.pushEvent({ eventType: 't', data: {} });
    // Only the silent connection exists at first: it gets attempt 1.
    await silent.waitFor(() => silent.received('EVENT').length === 1);
    const good = await connect(sandbox);
    await sandbox.gateway.drop(silent.frames[0]?.headers.connectionId ?? '');
    const result = await pushed.done;
    expect(result.status).toBe('acked');
    expect(good.received('EVENT').map((f) => f.headers.eventId)).toEqual([result.eventId]);
    const log = await eventLog(sandbox, result.eventId);
    expect(log[0]?.outcome).toBe('connectionLost');
    expect(log.at(-1)?.connectionId).toBe(good.received('EVENT')[0]?.headers.connectionId);
  });

  it('duplicate: true delivers a second copy with the same eventId after the ack', async () => {
    const sandbox = await start({ ...FAST, ackTimeoutMs: 5_000 });
    const client = await connect(sandbox);
    const result = await pushAndWait(sandbox, { eventType: 't', data: {}, duplicate: true });
    expect(result.status).toBe('acked');
    expect(result.attempts).toBe(1);
    expect(result.duplicateMessageId).toEqual(expect.any(String));
    const frames = client.received('EVENT');
    expect(frames).toHaveLength(2);
    expect(frames[0]?.headers.eventId).toBe(frames[1]?.headers.eventId);
    expect(frames[0]?.headers.messageId).not.toBe(frames[1]?.headers.messageId);
    const log = await eventLog(sandbox, result.eventId);
    expect(log.map((d) => [d.duplicate === true, d.outcome])).toEqual([
      [false, 'acked'],
      [true, 'acked'],
    ]);
  });
});

describe('EVENT timers follow the sandbox clock', () => {
  it('advancing the clock makes an unacked event missing and sends the redelivery at once, per the schedule', async () => {
    // Real-time deadlines far away: only the clock can make anything happen within this test.
    const sandbox = await start({ ackTimeoutMs: 60_000, eventRedelivery: [30_000, 90_000] });
    const client = await connect(sandbox, null);
    const pushed = sandbox.gateway.pushEvent({ eventType: 't', data: {}, eventId: 'evt-clock' });
    await client.waitFor(() => client.received('EVENT').length === 1);

    const advance = (ms: number) => http(sandbox, 'POST', '/sandbox/clock/advance', { ms });
    // Not yet at the ack deadline: nothing happens.
    await advance(59_000);
    expect((await eventLog(sandbox, 'evt-clock')).map((d) => d.outcome)).toEqual(['pending']);
    // Past it: attempt 1 is missing; the redelivery is due 30 s (clock time) later.
    await advance(1_000);
    expect((await eventLog(sandbox, 'evt-clock'))[0]?.outcome).toBe('timeout');
    expect(client.received('EVENT')).toHaveLength(1);
    await advance(30_000);
    await client.waitFor(() => client.received('EVENT').length === 2);
    // Attempt 2 missing, then the last redelivery, then the gateway gives up.
    await advance(60_000);
    await advance(90_000);
    await client.waitFor(() => client.received('EVENT').length === 3);
    await advance(60_000);
    const result = await pushed.done;
    expect(result).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await eventLog(sandbox, 'evt-clock')).map((d) => d.outcome)).toEqual([
      'timeout',
      'timeout',
      'timeout',
    ]);
    expect(sandbox.gateway.timers.size).toBeLessThanOrEqual(2); // only the connection's ping and lifetime
  });

  it('a LATER ack waits for the clock: advancing by the first delay redelivers, the SUCCESS ends it', async () => {
    const sandbox = await start({ ackTimeoutMs: 60_000, eventRedelivery: [45_000] });
    let n = 0;
    await connect(sandbox, (f) => {
      if (f.type !== 'EVENT') return undefined;
      const status = ++n === 1 ? 'LATER' : 'SUCCESS';
      return {
        code: 200,
        headers: { messageId: f.headers.messageId, contentType: 'application/json' },
        message: 'OK',
        data: JSON.stringify({ status, message: status }),
      };
    });
    const pushed = sandbox.gateway.pushEvent({ eventType: 't', data: {} });
    await eventually(() => n === 1);
    await http(sandbox, 'POST', '/sandbox/clock/advance', { ms: 45_000 });
    const result = await pushed.done;
    expect(result).toMatchObject({ status: 'acked', attempts: 2 });
  });
});

describe('ack faults', () => {
  it('withhold: acks are ignored as if never received, so the event is redelivered', async () => {
    const sandbox = await start({ ...FAST, ackTimeoutMs: 400, eventRedelivery: [30] });
    const client = await connect(sandbox);
    const set = await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'withhold' });
    expect(set.body).toEqual({ mode: 'withhold' });
    const result = await pushAndWait(sandbox, { eventType: 't', data: {} });
    expect(result).toMatchObject({ status: 'failed', attempts: 2 });
    expect(client.received('EVENT')).toHaveLength(2);
    const log = await eventLog(sandbox, result.eventId);
    for (const d of log) expect(d).toMatchObject({ outcome: 'timeout', ack: { withheld: true, code: 200 } });
    // Callbacks time out too.
    const cb = await http(sandbox, 'POST', '/sandbox/callbacks', {
      topic: '/v1.0/graph/api/invoke',
      data: {},
    });
    expect(cb.status).toBe(504);
    expect(cb.body).toMatchObject({ status: 'timeout' });
    // Pings are not affected, and `none` restores normal behaviour.
    const pingId = sandbox.gateway.ping(client.frames[0]?.headers.connectionId ?? '');
    await eventually(async () => {
      const res = await http<{ deliveries: DeliveryRecord[] }>(
        sandbox,
        'GET',
        `/sandbox/deliveries?messageId=${pingId}`,
      );
      return res.body.deliveries[0]?.outcome === 'echoed';
    });
    await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'none' });
    expect((await pushAndWait(sandbox, { eventType: 't' })).status).toBe('acked');
  });

  it('delay: an ack processed after the ack timeout is recorded as late and the event is redelivered', async () => {
    const sandbox = await start({ ...FAST, eventRedelivery: [20] });
    const client = await connect(sandbox);
    await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'delay', delayMs: 400 });
    const pushed = sandbox.gateway.pushEvent({ eventType: 't', data: {} });
    const result = await pushed.done;
    // attempt 1 times out at 150 ms; attempt 2 (at ~170 ms) times out before its delayed ack too.
    expect(result).toMatchObject({ status: 'failed', attempts: 2 });
    expect(client.received('EVENT')).toHaveLength(2);
    const log = await eventually(async () => {
      const l = await eventLog(sandbox, result.eventId);
      return l.every((d) => d.ack?.late) ? l : undefined;
    });
    for (const d of log) expect(d).toMatchObject({ outcome: 'timeout', ack: { late: true, delayedMs: 400 } });
  });

  it('delay shorter than the timeout: the ack still counts', async () => {
    const sandbox = await start({ ...FAST, ackTimeoutMs: 1_000 });
    await connect(sandbox);
    await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'delay', delayMs: 30 });
    const result = await pushAndWait(sandbox, { eventType: 't' });
    expect(result).toMatchObject({ status: 'acked', attempts: 1 });
    const [record] = await eventLog(sandbox, result.eventId);
    expect(record?.ack).toMatchObject({ delayedMs: 30 });
    expect(record?.ack?.late).toBeUndefined();
  });

  it('rejects an unknown fault mode or a delay without delayMs with 400 naming the field', async () => {
    const sandbox = await start();
    const bad = await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'explode' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalidParameter', field: 'mode' });
    const noDelay = await http(sandbox, 'POST', '/sandbox/faults/acks', { mode: 'delay' });
    expect(noDelay.status).toBe(400);
    expect(noDelay.body).toMatchObject({ code: 'invalidParameter', field: 'delayMs' });
  });
});
