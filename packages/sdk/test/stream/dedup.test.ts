import {
  type DedupStore,
  MemoryDedupStore,
  Metrics,
  readEventAck,
  type StreamEvent,
} from '@dingtalk-skills/sdk';
import { describe, expect, it } from 'vitest';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import { deferred, until } from '../support/wait.js';

const fx = streamFixturePerTest();

describe('EVENT dedup over the wire', () => {
  it('runs the handler once for an event delivered twice; both deliveries are acked SUCCESS', async () => {
    const runs: StreamEvent[] = [];
    const client = fx.client();
    client.onEvent((ev) => {
      runs.push(ev);
    });
    await client.start();
    const gw = fx.gateway;
    const first = gw.deliver(gw.eventFrame({ n: 1 }, { eventId: 'evt-dup' }));
    expect(readEventAck((await gw.waitForAck(first)).ack).status).toBe('SUCCESS');
    const second = gw.deliver(gw.eventFrame({ n: 1 }, { eventId: 'evt-dup' }));
    const { ack } = await gw.waitForAck(second);
    expect(readEventAck(ack)).toEqual({ status: 'SUCCESS', message: 'duplicate' });
    expect(runs.map((e) => e.id)).toEqual(['evt-dup']);
  });

  it('answers a redelivery LATER while the first delivery is in flight, SUCCESS (duplicate) once it is done', async () => {
    const release = deferred();
    let runs = 0;
    const client = fx.client();
    client.onEvent(async () => {
      runs++;
      await release.promise;
    });
    await client.start();
    const gw = fx.gateway;
    const first = gw.deliver(gw.eventFrame({}, { eventId: 'evt-inflight' }));
    const second = gw.deliver(gw.eventFrame({}, { eventId: 'evt-inflight' }));
    // LATER, not SUCCESS: if this process died now, the platform must still deliver the event again.
    expect(readEventAck((await gw.waitForAck(second)).ack)).toEqual({
      status: 'LATER',
      message: 'in progress',
    });
    expect(gw.ackOf(first)).toBeUndefined();
    release.resolve();
    expect(readEventAck((await gw.waitForAck(first)).ack).status).toBe('SUCCESS');
    const third = gw.deliver(gw.eventFrame({}, { eventId: 'evt-inflight' }));
    expect(readEventAck((await gw.waitForAck(third)).ack)).toEqual({
      status: 'SUCCESS',
      message: 'duplicate',
    });
    expect(runs).toBe(1);
  });

  it('a lease whose holder died: redeliveries are LATER until it runs out, then the handler runs', async () => {
    const store = new MemoryDedupStore();
    // Another process claimed the event and was killed mid-handler: its lease is all that is left.
    expect(store.begin('evt-orphan', 'dead-process:msg-1', 300)).toBe('claimed');
    let runs = 0;
    const client = fx.client({ dedupStore: store });
    client.onEvent(() => {
      runs++;
    });
    await client.start();
    const gw = fx.gateway;
    const early = gw.deliver(gw.eventFrame({}, { eventId: 'evt-orphan' }));
    expect(readEventAck((await gw.waitForAck(early)).ack).status).toBe('LATER');
    expect(runs).toBe(0);
    let status = 'LATER';
    const deadline = Date.now() + 3_000;
    while (status === 'LATER' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const id = gw.deliver(gw.eventFrame({}, { eventId: 'evt-orphan' }));
      status = readEventAck((await gw.waitForAck(id)).ack).status;
    }
    expect(status).toBe('SUCCESS');
    expect(runs).toBe(1);
    expect(store.begin('evt-orphan', 'someone-else', 300)).toBe('done');
  });

  it('falls back to the messageId when the event has no eventId', async () => {
    let runs = 0;
    const client = fx.client();
    client.onEvent(() => {
      runs++;
    });
    await client.start();
    const gw = fx.gateway;
    const f = gw.eventFrame({}, { eventId: '' });
    const a = gw.deliver(f);
    await gw.waitForAck(a);
    const [sock] = gw.openSockets();
    gw.send(sock!, f); // the same frame again: same messageId
    await gw.roundTrip(sock!);
    expect(gw.acksOf(a).map((x) => readEventAck(x.ack).message)).toEqual(['OK', 'duplicate']);
    expect(runs).toBe(1);
  });

  it('runs a redelivery again after the handler answered LATER or threw', async () => {
    const outcomes = ['LATER', 'throw', 'ok'] as const;
    let run = 0;
    const client = fx.client();
    client.onEvent(async () => {
      const outcome = outcomes[run++];
      if (outcome === 'LATER') return 'LATER';
      if (outcome === 'throw') throw new Error('flaky');
      return undefined;
    });
    await client.start();
    const gw = fx.gateway;
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = gw.deliver(gw.eventFrame({}, { eventId: 'evt-retry' }));
      statuses.push(readEventAck((await gw.waitForAck(id, 3_000)).ack).status);
    }
    expect(statuses).toEqual(['LATER', 'LATER', 'SUCCESS']);
    expect(run).toBe(3);
  });

  it('after a timeout the abandoned handler keeps its lease: LATER meanwhile, then settled by its result', async () => {
    const finish = [deferred<'ok' | 'throw'>(), deferred<'ok' | 'throw'>()];
    let run = 0;
    const client = fx.client({ handlerTimeoutMs: 100 });
    client.onEvent(async (ev) => {
      const how = await finish[run++]!.promise;
      if (how === 'throw') throw new Error(`${ev.id} failed late`);
    });
    await client.start();
    const gw = fx.gateway;
    const settledLate = () => fx.logs.find('handler settled after its deadline').length;
    const status = async (eventId: string) => {
      const id = gw.deliver(gw.eventFrame({}, { eventId }));
      return readEventAck((await gw.waitForAck(id, 3_000)).ack);
    };
    // A handler that fails after its deadline gives the event back: the next delivery runs it again.
    expect(await status('evt-slow-fail')).toEqual({ status: 'LATER', message: 'handler timeout' });
    expect((await status('evt-slow-fail')).message).toBe('in progress');
    finish[0]!.resolve('throw');
    // The memory store answers synchronously: the key is settled when the line is logged.
    await until(() => settledLate() === 1, 3_000, 'the late handler to settle');
    finish[1]!.resolve('ok');
    expect((await status('evt-slow-fail')).status).toBe('SUCCESS');
    expect(run).toBe(2);
    // One that succeeds after its deadline marks the event done: the next delivery is a duplicate.
    const late = deferred<'ok' | 'throw'>();
    finish.push(late);
    expect((await status('evt-slow-ok')).message).toBe('handler timeout');
    late.resolve('ok');
    await until(() => settledLate() === 2, 3_000, 'the late handler to settle');
    expect(await status('evt-slow-ok')).toEqual({ status: 'SUCCESS', message: 'duplicate' });
    expect(run).toBe(3);
  });

  it('works with an asynchronous store (the shape of a Redis store)', async () => {
    const keys = new Map<string, string>();
    const calls: string[] = [];
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const store: DedupStore = {
      async begin(key, owner, leaseMs) {
        calls.push(`begin ${key} ${leaseMs}`);
        await tick();
        const held = keys.get(key);
        if (held !== undefined) return held === 'done' ? 'done' : 'in-progress';
        keys.set(key, owner);
        return 'claimed';
      },
      async complete(key, owner, ttlMs) {
        calls.push(`complete ${key} ${ttlMs}`);
        await tick();
        if (keys.get(key) !== owner) return false;
        keys.set(key, 'done');
        return true;
      },
      async release(key, owner) {
        calls.push(`release ${key}`);
        if (keys.get(key) === owner) keys.delete(key);
      },
    };
    let runs = 0;
    const client = fx.client({
      dedupStore: store,
      dedup: { ttlMs: 60_000, leaseMarginMs: 1_000 },
      handlerTimeoutMs: 2_000,
    });
    client.onEvent(() => (++runs === 1 ? 'LATER' : undefined));
    await client.start();
    const gw = fx.gateway;
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const id = gw.deliver(gw.eventFrame({}, { eventId: 'evt-async' }));
      ids.push(readEventAck((await gw.waitForAck(id)).ack).status);
    }
    expect(ids).toEqual(['LATER', 'SUCCESS', 'SUCCESS']);
    expect(runs).toBe(2);
    // The lease is the handler deadline plus the margin (this store does not renew); done lasts the TTL.
    expect(calls).toEqual([
      'begin evt-async 3000',
      'release evt-async',
      'begin evt-async 3000',
      'complete evt-async 60000',
      'begin evt-async 3000',
    ]);
  });

  it('still handles events (at least once) when the store fails, and logs it', async () => {
    let runs = 0;
    const client = fx.client({
      dedupStore: {
        begin: () => Promise.reject(new Error('redis down')),
        complete: () => Promise.reject(new Error('redis down')),
        release: () => Promise.reject(new Error('redis down')),
      },
    });
    client.onEvent(() => {
      runs++;
    });
    await client.start();
    const gw = fx.gateway;
    const id = gw.deliver(gw.eventFrame());
    expect(readEventAck((await gw.waitForAck(id)).ack).status).toBe('SUCCESS');
    expect(runs).toBe(1);
    expect(fx.logs.find('dedup store failed')[0]).toMatchObject({ level: 50 });
  });
});

describe('MemoryDedupStore', () => {
  it('claims a key once until its lease expires or is released', () => {
    let now = 1_000;
    const store = new MemoryDedupStore({ now: () => now });
    expect(store.begin('a', 'o1', 100)).toBe('claimed');
    expect(store.begin('a', 'o2', 100)).toBe('in-progress');
    now += 99;
    expect(store.begin('a', 'o2', 100)).toBe('in-progress');
    now += 1;
    expect(store.begin('a', 'o2', 100)).toBe('claimed');
    store.release('a', 'o2');
    expect(store.begin('a', 'o3', 100)).toBe('claimed');
  });

  it('lease protocol: in progress until completed (done) or released; only the owner settles it', () => {
    let now = 1_000;
    const store = new MemoryDedupStore({ now: () => now });
    expect(store.begin('e', 'a', 100)).toBe('claimed');
    expect(store.begin('e', 'b', 100)).toBe('in-progress');
    store.release('e', 'b'); // not b's lease: nothing happens
    expect(store.begin('e', 'b', 100)).toBe('in-progress');
    expect(store.complete('e', 'b', 60_000)).toBe(false);
    expect(store.complete('e', 'a', 60_000)).toBe(true);
    expect(store.begin('e', 'b', 100)).toBe('done');
    now += 59_999;
    expect(store.begin('e', 'b', 100)).toBe('done');
    now += 1;
    expect(store.begin('e', 'b', 100)).toBe('claimed');
    store.release('e', 'b');
    expect(store.begin('e', 'c', 100)).toBe('claimed');
    // A lease that ran out with nobody taking the key over can still be completed by its holder.
    now += 100;
    expect(store.complete('e', 'c', 60_000)).toBe(true);
    expect(store.begin('e', 'd', 100)).toBe('done');
  });

  it('keeps at most maxEntries keys, evicting the oldest', () => {
    const store = new MemoryDedupStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd']) expect(store.begin(k, 'o', 60_000)).toBe('claimed');
    expect(store.size).toBe(3);
    expect(store.begin('a', 'o', 60_000)).toBe('claimed'); // evicted, so first again
    expect(store.begin('d', 'o', 60_000)).toBe('in-progress');
  });

  it('sweeps expired keys as new ones arrive', () => {
    let now = 0;
    const store = new MemoryDedupStore({ now: () => now });
    for (let i = 0; i < 100; i++) store.begin(`k${i}`, 'o', 10);
    now = 50;
    store.begin('fresh', 'o', 10);
    expect(store.size).toBe(1);
  });
});

describe('the default in-memory dedup is full (issue 11 #14)', () => {
  it('12,000 events then redeliveries of the first 100: the early evictions are logged (rate-limited) and counted', async () => {
    const EVENTS = 12_000;
    const metrics = new Metrics({ defaultMetrics: false });
    const runs = new Map<string, number>();
    // The default store (no dedupStore given): 10,000 marks, 10 minutes.
    const client = fx.client({ observer: metrics, maxInFlight: 512 });
    client.onEvent((ev) => {
      runs.set(ev.id, (runs.get(ev.id) ?? 0) + 1);
    });
    await client.start();
    const gw = fx.gateway;
    const deliver = async (from: number, to: number) => {
      const ids: string[] = [];
      for (let i = from; i < to; i++) ids.push(gw.deliver(gw.eventFrame({ i }, { eventId: `evt-${i}` })));
      for (const id of ids)
        expect(readEventAck((await gw.waitForAck(id, 30_000)).ack).status).toBe('SUCCESS');
    };
    for (let i = 0; i < EVENTS; i += 1_000) await deliver(i, i + 1_000);
    // The platform redelivers the first 100 (within the 10-minute TTL): their marks were evicted.
    await deliver(0, 100);
    const total = [...runs.values()].reduce((a, b) => a + b, 0);
    // The documented bound: beyond 10,000 marks within the TTL the oldest go, and a redelivery runs again...
    expect(total).toBe(EVENTS + 100);
    // ...but not silently: counted, and logged a few times rather than once per eviction.
    const text = await metrics.render();
    const evicted = Number(/^dingtalk_stream_dedup_evictions_total (\d+)/m.exec(text)?.[1]);
    expect(evicted).toBe(EVENTS + 100 - 10_000);
    const lines = fx.logs.find('EVENT dedup store is full');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0]).toMatchObject({ level: 40, maxEntries: 10_000 });
  }, 60_000);
});

describe('EVENT leases renew while the handler runs (issue 11 #5)', () => {
  it('a lease far shorter than the handler still keeps a redelivery from running it twice', async () => {
    const release = deferred();
    let runs = 0;
    const store = new MemoryDedupStore();
    const client = fx.client({ dedupStore: store, handlerTimeoutMs: 10_000, dedup: { leaseMs: 90 } });
    client.onEvent(async () => {
      runs++;
      await release.promise;
    });
    await client.start();
    const gw = fx.gateway;
    const first = gw.deliver(gw.eventFrame({}, { eventId: 'evt-long' }));
    await until(() => runs === 1, 2_000, 'the handler to start');
    // Ten leases later the handler still runs: its lease was renewed, so the redelivery waits.
    await new Promise((resolve) => setTimeout(resolve, 900));
    const second = gw.deliver(gw.eventFrame({}, { eventId: 'evt-long' }));
    expect(readEventAck((await gw.waitForAck(second)).ack)).toEqual({
      status: 'LATER',
      message: 'in progress',
    });
    release.resolve();
    expect(readEventAck((await gw.waitForAck(first)).ack).status).toBe('SUCCESS');
    expect(runs).toBe(1);
    // Once settled nothing renews it any more: the key is done.
    expect(store.begin('evt-long', 'someone-else', 100)).toBe('done');
  });

  it('warns at start when a lease outlasts the redelivery horizon', async () => {
    const client = fx.client({
      handlerTimeoutMs: 300_000,
      dedup: { leaseMs: 240_000, redeliveryHorizonMs: 210_000 },
    });
    client.onEvent(() => undefined);
    await client.start();
    expect(fx.logs.find('outlasts the platform redelivery schedule')[0]).toMatchObject({
      level: 40,
      leaseMs: 240_000,
      redeliveryHorizonMs: 210_000,
    });
  });
});
