/**
 * Acks written in one turn of the event loop go out together, but never more than `ACK_BATCH_MAX` held
 * back: a burst of frames has its first answers on the wire while the rest still run (issue 14: with the
 * whole burst held to the end of the turn, the gateway waited for all of it, and throughput fell by a
 * quarter against a gateway that writes bursts). A real `ws` server on loopback is the peer.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../../src/logging/logger.js';
import { ACK_BATCH_MAX, StreamConnection } from '../../src/stream/connection.js';
import { until } from '../support/wait.js';

let server: WebSocketServer | undefined;
let conn: StreamConnection | undefined;

afterEach(async () => {
  conn?.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = conn = undefined;
});

/** A loopback ws server that records every text message it receives, and a connection to it. */
async function connected(): Promise<{ received: string[]; conn: StreamConnection }> {
  const received: string[] = [];
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws) => ws.on('message', (m) => received.push(m.toString())));
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  conn = new StreamConnection({
    slot: 0,
    id: 1,
    url: `ws://127.0.0.1:${port}/connect`,
    endpoint: `ws://127.0.0.1:${port}/connect`,
    handshakeTimeoutMs: 5_000,
    maxPayload: 1024 * 1024,
    keepalive: { enabled: false, intervalMs: 10_000, timeoutMs: 5_000 },
    sendBuffer: { maxBytes: 1024 * 1024, stallTimeoutMs: 60_000 },
    ua: 'ack-batching-test',
    paused: false,
    logger: silentLogger(),
    onFrame: () => undefined,
    onClose: () => undefined,
  });
  await conn.open();
  return { received, conn };
}

describe('ack batching', () => {
  it('holds acks to the end of the turn, but writes every ACK_BATCH_MAX at once', async () => {
    const { received, conn } = await connected();
    const total = 2 * ACK_BATCH_MAX + 3;
    const pendingAfter: number[] = [];
    for (let i = 0; i < total; i++) {
      expect(conn.send(`ack-${i}`)).toBe(true);
      pendingAfter.push(conn.pendingAcks);
    }
    // Within the turn: 1..MAX-1 wait, the MAX-th send writes them all, and so on.
    expect(pendingAfter.slice(0, ACK_BATCH_MAX)).toEqual([
      ...Array.from({ length: ACK_BATCH_MAX - 1 }, (_, i) => i + 1),
      0,
    ]);
    expect(pendingAfter.at(-1)).toBe(3);
    // After the turn, the rest is written too; the peer gets every ack once, in order.
    await new Promise((r) => setImmediate(r));
    expect(conn.pendingAcks).toBe(0);
    await until(() => received.length === total, 5_000, 'every ack at the peer');
    expect(received).toEqual(Array.from({ length: total }, (_, i) => `ack-${i}`));
  });

  it('a single ack waits only for the end of the turn', async () => {
    const { received, conn } = await connected();
    // Sent from a microtask, as a handler that settles asynchronously does: later microtasks of the
    // same turn (other handlers settling) still find it queued.
    const pending = await new Promise<number[]>((resolve) => {
      queueMicrotask(() => {
        conn.send('only');
        const right = conn.pendingAcks;
        void Promise.resolve().then(() => resolve([right, conn.pendingAcks]));
      });
    });
    expect(pending).toEqual([1, 1]);
    await new Promise((r) => setImmediate(r));
    expect(conn.pendingAcks).toBe(0);
    await until(() => received.length === 1, 5_000, 'the ack at the peer');
    expect(received).toEqual(['only']);
  });
});
