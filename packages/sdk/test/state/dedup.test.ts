import { readEventAck, StateDedupStore, type StateStoreKind } from '@dingtalk-skills/sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type StreamFixture, streamFixture } from '../support/stream-fixture.js';
import { ALL_KINDS, eventually, SHARED_KINDS, StateKit } from './state-kit.js';

const kit = new StateKit();
let fx: StreamFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
  await kit.closeStores();
});
afterAll(() => kit.closeAll());

describe.each(ALL_KINDS)('StateDedupStore on %s', (kind) => {
  it('claims once until released or expired; namespaces keep apps apart', async () => {
    const b = await kit.backing(kind);
    const store = await b.open();
    const app1 = new StateDedupStore(store, { namespace: 'dedup:app1' });
    const app2 = new StateDedupStore(store, { namespace: 'dedup:app2' });
    expect(await app1.begin('evt-1', 'a', 60_000)).toBe('claimed');
    expect(await app1.begin('evt-1', 'b', 60_000)).toBe('in-progress');
    expect(await app2.begin('evt-1', 'a', 60_000)).toBe('claimed');
    await app1.release('evt-1', 'a');
    expect(await app1.begin('evt-1', 'b', 60_000)).toBe('claimed');
    expect(await app1.begin('evt-short', 'a', 30)).toBe('claimed');
    await eventually(
      async () => (await app1.begin('evt-short', 'b', 30)) === 'claimed',
      2_000,
      'the claim to expire',
    );
    expect(await store.get('dedup:app1:evt-1')).not.toBeNull();
  });

  it('lease protocol: in progress, done or released; only the owner settles its lease', async () => {
    const b = await kit.backing(kind);
    const raw = await b.open();
    const dedup = new StateDedupStore(raw, { namespace: 'dedup:app1' });
    expect(await dedup.begin('e1', 'a', 60_000)).toBe('claimed');
    expect(await dedup.begin('e1', 'b', 60_000)).toBe('in-progress');
    await dedup.release('e1', 'b');
    expect(await dedup.begin('e1', 'b', 60_000)).toBe('in-progress');
    expect(await dedup.complete('e1', 'b', 60_000)).toBe(false);
    expect(await dedup.complete('e1', 'a', 60_000)).toBe(true);
    expect(await dedup.begin('e1', 'b', 60_000)).toBe('done');
    await dedup.release('e1', 'a'); // a's lease became "done": releasing it changes nothing
    expect(await dedup.begin('e1', 'b', 60_000)).toBe('done');

    expect(await dedup.begin('e2', 'a', 60_000)).toBe('claimed');
    await dedup.release('e2', 'a');
    expect(await dedup.begin('e2', 'b', 40)).toBe('claimed');
    // b's holder dies: once its lease runs out, another delivery claims the event.
    await eventually(
      async () => (await dedup.begin('e2', 'c', 60_000)) === 'claimed',
      2_000,
      'the lease to run out',
    );
    expect(await dedup.complete('e2', 'b', 60_000)).toBe(false);
    expect(await dedup.complete('e2', 'c', 60_000)).toBe(true);

    // A lease that ran out with nobody taking over can still be completed by its holder.
    expect(await dedup.begin('e3', 'a', 30)).toBe('claimed');
    await eventually(async () => (await dedup.begin('e3', 'probe', 1)) === 'claimed', 2_000, 'expiry');
    await eventually(async () => (await dedup.complete('e3', 'a', 60_000)) === true, 2_000, 'completion');
    expect(await dedup.begin('e3', 'b', 60_000)).toBe('done');

    // A value that is not a lease (what earlier versions wrote: a timestamp) reads as done.
    expect(await raw.setIfAbsent('dedup:app1:e4', String(Date.now()), 60_000)).toBe(true);
    expect(await dedup.begin('e4', 'a', 60_000)).toBe('done');
  });
});

describe.each(SHARED_KINDS)('two Stream clients sharing dedup on %s', (kind: StateStoreKind) => {
  it('an event handled by one instance is not handled again when redelivered to the other', async () => {
    fx = await streamFixture();
    const b = await kit.backing(kind);
    const runs: string[] = [];
    const a = fx.client({ connections: 1, dedupStore: new StateDedupStore(await b.open()) });
    const c = fx.client({ connections: 1, dedupStore: new StateDedupStore(await b.open()) });
    a.onEvent((ev) => {
      runs.push(`a:${ev.id}`);
    });
    c.onEvent((ev) => {
      runs.push(`c:${ev.id}`);
    });
    await Promise.all([a.start(), c.start()]);
    const gw = fx.gateway;
    const sockets = await gw.waitForOpenSockets(2);
    const acks: string[] = [];
    for (const socket of sockets) {
      const id = gw.send(socket, gw.eventFrame({ n: 1 }, { eventId: 'evt-shared' })) as string;
      acks.push(readEventAck((await gw.waitForAck(id)).ack).status);
    }
    expect(acks).toEqual(['SUCCESS', 'SUCCESS']);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^[ac]:evt-shared$/);
  });

  it('an instance stuck mid-handler keeps its lease: the other answers LATER, then handles the event once it runs out', async () => {
    fx = await streamFixture();
    const b = await kit.backing(kind);
    const runs: string[] = [];
    const lease = { handlerTimeoutMs: 100, dedup: { leaseMarginMs: 200 } };
    const stuck = fx.client({ connections: 1, dedupStore: new StateDedupStore(await b.open()), ...lease });
    const other = fx.client({ connections: 1, dedupStore: new StateDedupStore(await b.open()), ...lease });
    stuck.onEvent(() => {
      runs.push('stuck');
      return new Promise<never>(() => undefined); // as good as a process killed mid-handler
    });
    other.onEvent(() => {
      runs.push('other');
    });
    await stuck.start();
    const [first] = await fx.gateway.waitForOpenSockets(1);
    await other.start();
    const sockets = await fx.gateway.waitForOpenSockets(2);
    const second = sockets.find((s) => s !== first)!;
    const gw = fx.gateway;
    const deliver = async (socket: typeof first) => {
      const id = gw.send(socket!, gw.eventFrame({}, { eventId: 'evt-stuck' })) as string;
      return readEventAck((await gw.waitForAck(id)).ack);
    };
    expect(await deliver(first)).toEqual({ status: 'LATER', message: 'handler timeout' });
    expect(await deliver(second)).toEqual({ status: 'LATER', message: 'in progress' });
    let answer = { status: 'LATER' };
    const deadline = Date.now() + 3_000;
    while (answer.status === 'LATER' && Date.now() < deadline) answer = await deliver(second);
    expect(answer.status).toBe('SUCCESS');
    expect(runs).toEqual(['stuck', 'other']);
    expect((await deliver(first)).message).toBe('duplicate');
  });

  it('an event one instance answered LATER is handled by the other on redelivery', async () => {
    fx = await streamFixture();
    const b = await kit.backing(kind);
    const runs: string[] = [];
    const a = fx.client({ connections: 1, dedupStore: new StateDedupStore(await b.open()) });
    const c = fx.client({ connections: 1, dedupStore: new StateDedupStore(await b.open()) });
    a.onEvent(() => {
      runs.push('a');
      return 'LATER';
    });
    c.onEvent(() => {
      runs.push('c');
      return 'LATER';
    });
    await Promise.all([a.start(), c.start()]);
    const gw = fx.gateway;
    const sockets = await gw.waitForOpenSockets(2);
    for (const socket of sockets) {
      const id = gw.send(socket, gw.eventFrame({}, { eventId: 'evt-later' })) as string;
      expect(readEventAck((await gw.waitForAck(id)).ack).status).toBe('LATER');
    }
    expect([...runs].sort()).toEqual(['a', 'c']);
  });
});
