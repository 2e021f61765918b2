/**
 * The gateway suite's client, in its own plain `node` process: a raw `ws` client of the sandbox's
 * gateway (connections/open, then the WebSocket) that counts the frames it reads and, when told to,
 * acks each one the way a minimal client does (parse the frame, answer 200 with a small Graph response;
 * the acks of one read leave in one corked write).
 * It tells the parent when it has read the number of frames it was told to expect.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { ReaderArgs, ReaderIn, ReaderOut } from './reader-ipc.js';

const GRAPH_TOPIC = '/v1.0/graph/api/invoke';
/** What the acking variant answers: `{"response": <a 200 Graph response>}`. */
const ACK_DATA = JSON.stringify({
  response: { statusLine: { code: 200, reasonPhrase: 'OK' }, headers: {}, body: '{"ok":true}' },
});

function tell(msg: ReaderOut): void {
  process.send?.(msg);
}

/** Wall-clock time in ms with sub-ms resolution, comparable across processes on one machine. */
const epochMs = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ReaderArgs;
  const res = await fetch(`${args.apiBase}/v1.0/gateway/connections/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      clientId: args.clientId,
      clientSecret: args.clientSecret,
      subscriptions: [{ type: 'CALLBACK', topic: GRAPH_TOPIC }],
      ua: 'bench-gateway-reader',
    }),
  });
  if (!res.ok) throw new Error(`connections/open answered ${res.status}: ${await res.text()}`);
  const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
  const ws = new WebSocket(`${endpoint}?ticket=${encodeURIComponent(ticket)}`, { perMessageDeflate: false });
  // The acks of one read go out in one write: cork the TCP socket at the first ack of an event-loop turn
  // and uncork after the turn's microtasks (what a client that batches its acks does; ours does too).
  let tcp: Socket | undefined;
  ws.once('upgrade', (r) => {
    tcp = r.socket;
  });
  let corked = false;
  const uncork = () => {
    corked = false;
    tcp?.uncork();
  };

  let expected = 0;
  let received = 0;
  let ack = false;
  let firstAt = 0;
  let cpuStart = process.cpuUsage();
  let stray = 0;

  ws.on('message', (raw: Buffer) => {
    if (expected === 0) {
      stray++;
      return;
    }
    if (received === 0) firstAt = epochMs();
    if (ack) {
      if (!corked && tcp) {
        corked = true;
        tcp.cork();
        process.nextTick(uncork);
      }
      const frame = JSON.parse(raw.toString()) as { headers: { messageId: string } };
      ws.send(
        JSON.stringify({
          code: 200,
          headers: { messageId: frame.headers.messageId, contentType: 'application/json' },
          message: 'OK',
          data: ACK_DATA,
        }),
      );
    }
    if (++received === expected) {
      const lastAt = epochMs();
      const cpu = process.cpuUsage(cpuStart);
      expected = 0;
      tell({ type: 'received', count: received, firstAt, lastAt, cpuUs: cpu.user + cpu.system, stray });
    }
  });
  ws.on('close', (code: number) => {
    if (expected !== 0)
      tell({ type: 'failed', error: `connection closed (${code}) after ${received} frames` });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  process.on('message', (msg: ReaderIn) => {
    if (msg.type === 'expect') {
      expected = msg.count;
      received = 0;
      ack = msg.ack;
      stray = 0;
      cpuStart = process.cpuUsage();
      tell({ type: 'armed' });
    } else if (msg.type === 'stop') {
      ws.once('close', () => {
        tell({ type: 'stopped' });
        process.disconnect?.();
      });
      ws.close(1000);
    }
  });
  tell({ type: 'ready' });
}

main().catch((err: unknown) => {
  tell({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
