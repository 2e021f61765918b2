import { readCallbackResponse, Topic } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';
import { streamFixturePerTest } from '../support/stream-fixture.js';
import { observeFor, until } from '../support/wait.js';

const fx = streamFixturePerTest();

describe('maxInFlight backpressure', () => {
  it('never runs more than maxInFlight handlers, stops reading while full, and answers everything afterwards', async () => {
    const MAX = 3;
    const TOTAL = 60;
    let running = 0;
    let peak = 0;
    let reads = 0;
    let hold = true;
    const waiting: Array<() => void> = [];
    const client = fx.client({ maxInFlight: MAX, handlerTimeoutMs: 30_000 });
    client.onCallback(Topic.BotMessage, async (msg) => {
      running++;
      peak = Math.max(peak, running);
      if (hold) await new Promise<void>((resolve) => waiting.push(resolve));
      running--;
      return msg.messageId;
    });
    await client.start();
    const gw = fx.gateway;
    const [sock] = await gw.waitForOpenSockets(1);
    // Count what the client reads, from the gateway's side: frames it has taken off the wire are
    // either running, queued or answered.
    const countReads = () => {
      const s = client.status();
      reads = s.inFlight + s.queued + gw.acks.length;
      return reads;
    };
    // 60 frames of ~200 KB (12 MB): more than the loopback socket buffers of a paused reader hold.
    const pad = 'x'.repeat(200_000);
    const ids: string[] = [];
    for (let i = 0; i < TOTAL; i++) ids.push(gw.deliver(gw.callbackFrame(Topic.BotMessage, { pad })));
    await until(() => waiting.length === MAX, 5_000, `${MAX} handlers running`);
    await observeFor(300); // showing that nothing more is read needs a window
    expect(running).toBe(MAX);
    expect(countReads()).toBeLessThan(15);
    expect(client.status().queued).toBeLessThan(12);
    // The rest is held back by TCP on the gateway's side, not buffered by the client.
    expect(sock!.ws.bufferedAmount).toBeGreaterThan(1024 * 1024);
    hold = false;
    for (const release of waiting.splice(0)) release();
    await gw.waitFor(() => (gw.acks.length === TOTAL ? true : undefined), `all ${TOTAL} acks`, 20_000);
    expect(peak).toBe(MAX);
    expect(gw.acks.map((a) => readCallbackResponse(a.ack))).toEqual(ids);
    expect(client.status()).toMatchObject({ inFlight: 0, queued: 0 });
    expect(sock!.isOpen).toBe(true);
  });

  it('keeps the watchdog quiet while paused on purpose', async () => {
    const waiting: Array<() => void> = [];
    const client = fx.client({
      maxInFlight: 1,
      keepalive: { intervalMs: 50, timeoutMs: 50 },
      handlerTimeoutMs: 30_000,
    });
    client.onCallback(Topic.BotMessage, () => new Promise<void>((resolve) => waiting.push(resolve)));
    await client.start();
    const gw = fx.gateway;
    gw.answerPongs = false; // a watchdog that pinged would now kill the connection
    gw.deliver(gw.callbackFrame(Topic.BotMessage));
    await until(() => waiting.length === 1, 3_000, 'the handler to start');
    await observeFor(400);
    expect(gw.sockets).toHaveLength(1);
    expect(gw.sockets[0]!.isOpen).toBe(true);
    gw.answerPongs = true;
    waiting[0]!();
  });
});
