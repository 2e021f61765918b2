/**
 * A lean local Stream gateway for the benchmark: `POST /v1.0/gateway/connections/open` and a `ws` server on
 * one loopback port. It sends CALLBACK frames, keeps a window of messages in flight (optionally at a fixed
 * rate) and measures ack latency per messageId: send timestamp -> ack receipt.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import {
  CONNECTIONS_OPEN_PATH,
  type DownstreamFrame,
  MAX_FRAME_BYTES,
  openApiError,
  ProtocolError,
  parseAck,
  parseConnectionOpenRequest,
  readCallbackResponse,
  serializeDownstreamFrame,
  type UpstreamAck,
} from '../../packages/sdk/src/protocol/index.js';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, GRAPH_TOPIC, graphRequestData } from './workload.js';

const TICKET_TTL_MS = 90_000;
const MAX_BODY_BYTES = 64 * 1024;

/** What one phase sends: `messages` frames, at most `window` unacked, at `rate` msg/s when given. */
export interface PhaseSpec {
  messages: number;
  window: number;
  /** Messages per second; omitted = as fast as acks come back (saturation). */
  rate?: number;
  /** Give up when the phase takes longer than this. */
  timeoutMs: number;
}

/** What the gateway saw during one phase. */
export interface PhaseResult {
  messages: number;
  /** First send to last ack, milliseconds. */
  elapsedMs: number;
  /** Ack latency per message, milliseconds, sorted ascending. */
  latenciesMs: Float64Array;
  /** Acks that were malformed, unknown, repeated, or carried a wrong answer. */
  errors: number;
  /** Times the rate-limited sender found the window full when a message was due. */
  windowStalls: number;
  /** p99 of the gateway process's own event-loop delay during the phase, milliseconds. */
  loopDelayP99Ms: number;
}

/**
 * How the gateway writes frames: `frame` = one socket write per frame, as a server that sends each frame
 * as it is due (the default); `turn` = the frames due in one turn of the event loop in one write (a server
 * that flushes once per loop iteration, so a client reads bursts of frames).
 */
export type GatewayWrites = 'frame' | 'turn';

/** One client connection. */
export class GatewaySession {
  private phase: ActivePhase | undefined;
  private closedReason: string | undefined;
  private seqBase = 0;
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    readonly connectionId: string,
    private readonly log: (line: string) => void,
    /** The TCP socket under `ws`, corked per turn when writes are `turn`. */
    private readonly socket: Duplex | undefined,
  ) {
    ws.on('message', (raw: RawData) => this.onAck(raw));
    ws.on('close', (code: number) => {
      this.closedReason = `connection closed (${code})`;
      this.phase?.fail(new Error(this.closedReason));
    });
    ws.on('error', (err: Error) => this.log(`gateway: socket error on ${connectionId}: ${err.message}`));
  }

  /** Runs one phase to completion; rejects on timeout or when the connection closes. */
  run(spec: PhaseSpec): Promise<PhaseResult> {
    if (this.phase) return Promise.reject(new Error('a phase is already running'));
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    const phase = new ActivePhase(spec, this.seqBase, this.send, this.connectionId);
    this.seqBase += spec.messages;
    this.phase = phase;
    return phase.done.finally(() => {
      this.phase = undefined;
    });
  }

  close(): void {
    this.ws.close(1000, 'bench done');
  }

  private readonly send = (frame: string): void => {
    if (this.socket !== undefined && !this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    this.ws.send(frame);
  };

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  private onAck(raw: RawData): void {
    const phase = this.phase;
    const text = raw.toString();
    if (!phase) {
      this.log(`gateway: ack outside a phase: ${text.slice(0, 120)}`);
      return;
    }
    phase.onAck(text, performance.now());
  }
}

/** The bookkeeping of one running phase. Sequence numbers are global per session; ids are `<conn>-<seq>`. */
class ActivePhase {
  readonly done: Promise<PhaseResult>;
  private resolve!: (r: PhaseResult) => void;
  private reject!: (e: Error) => void;
  private readonly sentAt: Float64Array;
  private readonly ackedAt: Float64Array;
  private sent = 0;
  private acked = 0;
  private errors = 0;
  private windowStalls = 0;
  private startedAt = 0;
  private lastAckAt = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly idPrefix: string;
  private finished = false;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 1 });

  constructor(
    private readonly spec: PhaseSpec,
    private readonly seqBase: number,
    private readonly send: (frame: string) => void,
    private readonly connectionId: string,
  ) {
    this.done = new Promise<PhaseResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.sentAt = new Float64Array(spec.messages);
    this.ackedAt = new Float64Array(spec.messages);
    this.idPrefix = `${connectionId}-`;
    this.deadline = setTimeout(
      () =>
        this.fail(new Error(`phase timed out: ${this.acked}/${spec.messages} acked in ${spec.timeoutMs} ms`)),
      spec.timeoutMs,
    );
    this.loopDelay.enable();
    this.startedAt = performance.now();
    this.pump();
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.loopDelay.disable();
    clearTimeout(this.deadline);
    clearTimeout(this.pumpTimer);
    this.reject(err);
  }

  onAck(text: string, now: number): void {
    const { index, correct } = this.check(text);
    if (index === -1) {
      this.errors++;
      return;
    }
    this.ackedAt[index] = now;
    this.acked++;
    this.lastAckAt = now;
    if (!correct) this.errors++;
    if (this.acked === this.spec.messages) this.finish();
    else this.pump();
  }

  /** The phase index of the message an ack answers (-1: malformed, unknown or repeated) and whether the answer is right. */
  private check(text: string): { index: number; correct: boolean } {
    let ack: UpstreamAck;
    try {
      ack = parseAck(text);
    } catch (err) {
      if (err instanceof ProtocolError) return { index: -1, correct: false };
      throw err;
    }
    const id = ack.headers.messageId;
    if (!id.startsWith(this.idPrefix)) return { index: -1, correct: false };
    const seq = Number(id.slice(this.idPrefix.length));
    const index = seq - this.seqBase;
    if (!Number.isInteger(index) || index < 0 || index >= this.sent || this.ackedAt[index] !== 0)
      return { index: -1, correct: false };
    return { index, correct: ack.code === 200 && answersSeq(ack, seq) };
  }

  private sendNext(): void {
    const index = this.sent;
    const seq = this.seqBase + index;
    const frame: DownstreamFrame = {
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: {
        appId: 'bench-app',
        connectionId: this.connectionId,
        contentType: 'application/json',
        messageId: `${this.idPrefix}${seq}`,
        time: String(Date.now()),
        topic: GRAPH_TOPIC,
      },
      data: graphRequestData(seq),
    };
    const text = serializeDownstreamFrame(frame);
    this.sent++;
    this.sentAt[index] = performance.now();
    this.send(text);
  }

  /** Sends what is due: up to the window, and (rate mode) up to the schedule; re-arms a 1 ms timer. */
  private pump(): void {
    if (this.finished) return;
    const { messages, window, rate } = this.spec;
    const inFlight = () => this.sent - this.acked;
    if (rate === undefined) {
      while (this.sent < messages && inFlight() < window) this.sendNext();
      return;
    }
    const due = Math.min(messages, Math.floor(((performance.now() - this.startedAt) * rate) / 1000) + 1);
    while (this.sent < due && inFlight() < window) this.sendNext();
    if (this.sent < due) this.windowStalls++;
    if (this.sent < messages && this.pumpTimer === undefined) {
      this.pumpTimer = setTimeout(() => {
        this.pumpTimer = undefined;
        this.pump();
      }, 1);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.loopDelay.disable();
    clearTimeout(this.deadline);
    clearTimeout(this.pumpTimer);
    const latencies = new Float64Array(this.acked);
    let j = 0;
    for (let i = 0; i < this.sent; i++) {
      const at = this.ackedAt[i]!;
      if (at !== 0) latencies[j++] = at - this.sentAt[i]!;
    }
    latencies.sort();
    this.resolve({
      messages: this.spec.messages,
      elapsedMs: this.lastAckAt - this.sentAt[0]!,
      latenciesMs: latencies,
      errors: this.errors,
      windowStalls: this.windowStalls,
      loopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
    });
  }
}

/** True when the ack's `{"response": ...}` is a 200 Graph response whose JSON body echoes `seq`. */
function answersSeq(ack: UpstreamAck, seq: number): boolean {
  try {
    const response = readCallbackResponse(ack) as { statusLine?: { code?: unknown }; body?: unknown } | null;
    if (response?.statusLine?.code !== 200 || typeof response.body !== 'string') return false;
    return (JSON.parse(response.body) as { seq?: unknown }).seq === seq;
  } catch (err) {
    if (err instanceof ProtocolError || err instanceof SyntaxError) return false;
    throw err;
  }
}

/** The gateway: one HTTP server on 127.0.0.1 (port chosen by the OS) serving connections/open and the ws. */
export class BenchGateway {
  private readonly tickets = new Map<string, number>();
  private readonly waiting: Array<(s: GatewaySession) => void> = [];
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_FRAME_BYTES,
  });
  private connections = 0;

  private constructor(
    private readonly server: Server,
    private readonly log: (line: string) => void,
    private readonly writes: GatewayWrites,
  ) {
    server.on('request', (req, res) => this.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  static async start(log: (line: string) => void, writes: GatewayWrites = 'frame'): Promise<BenchGateway> {
    const server = createServer();
    const gateway = new BenchGateway(server, log, writes);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return gateway;
  }

  /** `http://127.0.0.1:<port>`: what a client takes as its API base. */
  get apiBase(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next client connection to arrive (waits at most `timeoutMs`). */
  nextSession(timeoutMs: number): Promise<GatewaySession> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(take);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(new Error(`no client connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const take = (s: GatewaySession) => {
        clearTimeout(timer);
        resolve(s);
      };
      this.waiting.push(take);
    });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== CONNECTIONS_OPEN_PATH) {
      reply(404, openApiError('NotFound', 'no such path', randomUUID()));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reply(413, openApiError('InvalidParameter', 'body too large', randomUUID()));
        return;
      }
      try {
        const open = parseConnectionOpenRequest(Buffer.concat(chunks).toString('utf8'));
        if (open.clientId !== BENCH_CLIENT_ID || open.clientSecret !== BENCH_CLIENT_SECRET) {
          reply(401, openApiError('authFailed', '鉴权失败', randomUUID()));
          return;
        }
        if (!open.subscriptions.some((s) => s.type === 'CALLBACK' && s.topic === GRAPH_TOPIC)) {
          reply(
            400,
            openApiError('InvalidParameter', `no CALLBACK subscription for ${GRAPH_TOPIC}`, randomUUID()),
          );
          return;
        }
        const ticket = randomUUID();
        this.tickets.set(ticket, Date.now() + TICKET_TTL_MS);
        reply(200, {
          endpoint: `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/connect`,
          ticket,
        });
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.log(`gateway: bad connections/open body: ${err.message}`);
        reply(400, openApiError('InvalidParameter', err.message, randomUUID()));
      }
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    const expires = this.tickets.get(ticket);
    this.tickets.delete(ticket); // single use
    if (url.pathname !== '/connect' || expires === undefined || expires < Date.now()) {
      this.log(
        `gateway: refused a WebSocket upgrade (${url.pathname}, ticket ${expires ? 'expired' : 'unknown'})`,
      );
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new GatewaySession(
        ws,
        `conn${++this.connections}`,
        this.log,
        this.writes === 'turn' ? socket : undefined,
      );
      const take = this.waiting.shift();
      if (take) take(session);
      else {
        this.log('gateway: a client connected while nobody waited for it; closing it');
        session.close();
      }
    });
  }
}
