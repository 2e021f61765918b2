import { randomUUID } from 'node:crypto';
import type { DownstreamFrame } from '@dingtalk-skills/sdk/protocol';
import type { GatewayConnection } from './connection.js';
import type { GatewayCore } from './core.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import { buildFrame, encodeFrame } from './frames.js';

/** Prefix of the messageIds of blasted frames; their acks are counted, not logged. */
export const BLAST_PREFIX = 'blast.';

/** A burst of frames for benchmarks. */
export interface BlastOptions {
  /** How many frames. */
  count: number;
  /** CALLBACK (default) or EVENT. */
  type?: 'CALLBACK' | 'EVENT';
  /** Default `/v1.0/graph/api/invoke` for CALLBACK, `*` for EVENT. */
  topic?: string;
  /** The frames' `data` (a JSON string; default a small Graph API request). */
  data?: string;
  /** Resolve only when every frame was acked (or `ackTimeoutMs` passed). */
  awaitAcks?: boolean;
  /** How long to wait for the acks (default 30 s). */
  ackTimeoutMs?: number;
}

export interface BlastResult {
  sent: number;
  bytes: number;
  /** From the first send to the last frame handed to the socket (or the last ack with `awaitAcks`). */
  ms: number;
  framesPerSecond: number;
  /** Acks received (with `awaitAcks`). */
  acked?: number;
}

interface BlastRun {
  expected: number;
  acked: number;
  resolve: () => void;
}

const DEFAULT_DATA = JSON.stringify({
  requestLine: { method: 'POST', uri: '/v1/actions/bench/echo' },
  headers: { 'content-type': 'application/json', 'x-ability-key': 'echo' },
  body: '{"n":1}',
});

/** A frame whose messageId (and eventId) is `placeholder` (ASCII, never escaped by JSON). */
function blastFrame(
  conn: GatewayConnection,
  type: 'CALLBACK' | 'EVENT',
  topic: string,
  data: string,
  now: number,
  placeholder: string,
): DownstreamFrame {
  const frame = buildFrame(
    type,
    { topic, messageId: placeholder, appId: conn.appId, connectionId: conn.id, now },
    data,
  );
  if (type === 'EVENT') {
    frame.headers.eventId = placeholder;
    frame.headers.eventType = 'bench_event';
  }
  return frame;
}

/** How many frames may be handed to the socket before waiting for them to be written. */
const WINDOW = 512;

/**
 * Sends N frames as fast as the socket takes them to one connection, bypassing the delivery log and
 * ack tracking (acks of blasted frames are only counted). For `npm run bench`.
 */
export class Blaster {
  readonly #core: GatewayCore;
  readonly #runs = new Map<string, BlastRun>();

  constructor(core: GatewayCore) {
    this.#core = core;
  }

  async blast(conn: GatewayConnection, opts: BlastOptions): Promise<BlastResult> {
    if (!conn.live)
      throw new GatewayError(GatewayErrorCode.ConnectionNotOpen, `connection ${conn.id} is ${conn.state}`);
    const { ctx } = this.#core;
    const type = opts.type ?? 'CALLBACK';
    const topic = opts.topic ?? (type === 'EVENT' ? '*' : '/v1.0/graph/api/invoke');
    const data = opts.data ?? DEFAULT_DATA;
    const runId = randomUUID().slice(0, 8);
    const prefix = `${BLAST_PREFIX}${runId}.`;
    const maxBytes = ctx.options.maxFrameBytes;
    let ackWait: Promise<void> | undefined;
    let run: BlastRun | undefined;
    if (opts.awaitAcks) {
      ackWait = new Promise<void>((resolve) => {
        run = { expected: opts.count, acked: 0, resolve };
      });
      if (run) this.#runs.set(runId, run);
    }
    const started = performance.now();
    let bytes = 0;
    let sent = 0;
    // Serialize once with a placeholder id, then splice each frame's id in: no per-frame JSON work.
    const placeholder = `@@${runId}@@`;
    const template = encodeFrame(blastFrame(conn, type, topic, data, ctx.clock.now(), placeholder), maxBytes);
    const parts = template.text.split(placeholder);
    const fixedBytes = template.bytes - (parts.length - 1) * placeholder.length;
    let corked = false;
    try {
      for (let i = 0; i < opts.count; i++) {
        // Cork the TCP socket over each window so its frames leave in a few large writes.
        if (!corked) {
          conn.socket.cork();
          corked = true;
        }
        const id = prefix + i;
        const text = parts.join(id);
        const frameBytes = fixedBytes + (parts.length - 1) * id.length;
        if (frameBytes > maxBytes)
          throw new GatewayError(
            GatewayErrorCode.FrameTooLarge,
            `a blasted frame would be ${frameBytes} bytes; the gateway sends at most ${maxBytes}`,
          );
        if (!conn.live) break;
        bytes += frameBytes;
        if ((i + 1) % WINDOW === 0 || i === opts.count - 1) {
          // Wait until the window is written; a send error closes the socket, ending the loop.
          const written = new Promise<void>((resolve) => conn.ws.send(text, () => resolve()));
          conn.socket.uncork();
          corked = false;
          await written;
        } else conn.ws.send(text);
        sent++;
      }
      conn.framesSent += sent;
      if (ackWait && run) {
        const r = run;
        if (r.acked >= r.expected) r.resolve();
        const timeout = this.#core.timers.timeout(opts.ackTimeoutMs ?? 30_000, () => r.resolve());
        await ackWait;
        this.#core.timers.clear(timeout);
      }
    } finally {
      if (corked) conn.socket.uncork();
      this.#runs.delete(runId);
    }
    const ms = performance.now() - started;
    const result: BlastResult = {
      sent,
      bytes,
      ms: Math.round(ms * 100) / 100,
      framesPerSecond: Math.round(sent / (ms / 1000)),
    };
    if (run) result.acked = run.acked;
    return result;
  }

  /** Counts the ack of a blasted frame. Returns true when the messageId is a blast id. */
  onAck(messageId: string): boolean {
    if (!messageId.startsWith(BLAST_PREFIX)) return false;
    const runId = messageId.slice(BLAST_PREFIX.length, messageId.indexOf('.', BLAST_PREFIX.length));
    const run = this.#runs.get(runId);
    if (run !== undefined && ++run.acked >= run.expected) run.resolve();
    return true;
  }

  /** Releases every waiting blast (gateway closing). */
  cancelAll(): void {
    for (const run of this.#runs.values()) run.resolve();
    this.#runs.clear();
  }
}
