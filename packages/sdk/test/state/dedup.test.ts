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
    expect(await app1.claim('evt-1', 60_000)).toBe(true);
    expect(await app1.claim('evt-1', 60_000)).toBe(false);
    expect(await app2.claim('evt-1', 60_000)).toBe(true);
    await app1.release('evt-1');
    expect(await app1.claim('evt-1', 60_000)).toBe(true);
    expect(await app1.claim('evt-short', 30)).toBe(true);
    await eventually(() => app1.claim('evt-short', 30), 2_000, 'the claim to expire');
    expect(await store.get('dedup:app1:evt-1')).not.toBeNull();
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
