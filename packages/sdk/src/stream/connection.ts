import type { Socket } from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';
import { ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { StreamConnectError } from './connect-error.js';

/** A WebSocket message as `ws` delivers it (declared here so the public types need no `@types/ws`). */
export type RawData = Buffer | ArrayBuffer | Buffer[];

/** Receives every inbound message of a connection, with the time it arrived (ms). */
export type FrameSink = (conn: StreamConnection, data: RawData, now: number) => void;

export interface StreamConnectionOptions {
  /** Pool slot this connection serves. */
  slot: number;
  /** Process-unique id, for logs. */
  id: number;
  /** `ws(s)://...?ticket=...`: never logged. */
  url: string;
  /** Endpoint without the ticket, for logs. */
  endpoint: string;
  handshakeTimeoutMs: number;
  /** ws-level payload cap; above the frame cap so oversize frames get a defined answer, not a 1009 close. */
  maxPayload: number;
  keepalive: { enabled: boolean; intervalMs: number; timeoutMs: number };
  /** Bounds on what may wait in the send buffer (acks the gateway has not read yet). */
  sendBuffer: { maxBytes: number; stallTimeoutMs: number };
  ua: string;
  /** Start with reading paused (the client is at maxInFlight). */
  paused: boolean;
  logger: Logger;
  onFrame: FrameSink;
  onClose: (conn: StreamConnection, code: number, reason: string) => void;
}

/** How long a closing handshake may take before ws destroys the socket. */
const CLOSE_TIMEOUT_MS = 2_000;
/**
 * Acks gathered in one turn are written at the latest when this many wait: a read that brings a burst of
 * frames has its first answers on the wire while the rest still run, so the gateway keeps working in
 * parallel (with the whole burst held to the end of the turn, gateway and client took turns).
 */
export const ACK_BATCH_MAX = 8;

/**
 * One WebSocket to the gateway: opens it, feeds inbound messages to a {@link FrameSink}, sends acks,
 * pauses/resumes reading for backpressure and runs the liveness watchdog (ws ping after
 * `keepalive.intervalMs` without inbound traffic; no pong within `timeoutMs` terminates the socket).
 */
export class StreamConnection {
  readonly slot: number;
  readonly id: number;
  readonly endpoint: string;
  /** Time the socket opened (ms since epoch); 0 until then. */
  connectedAt = 0;
  /** Messages received here that still await their answer (their ack goes out on this socket). */
  pending = 0;
  /** Set once the server asked this connection to go (`disconnect`): it drains, then closes. */
  retiring = false;
  /** True once the socket has closed. */
  closed = false;

  private readonly ws: WebSocket;
  private readonly opts: StreamConnectionOptions;
  private readonly log: Logger;
  private lastSeen = 0;
  private pingSentAt = 0;
  private paused: boolean;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private retireTimer: NodeJS.Timeout | undefined;
  /** The TCP socket under the WebSocket (from the `upgrade` response), to batch acks in one write. */
  private tcp: Socket | undefined;
  /** Acks queued in this turn of the event loop; flushed together after the current microtasks. */
  private outbox: string[] = [];
  private flushScheduled = false;
  /** Watches a non-empty send buffer for progress (a gateway that stopped reading). */
  private stallTimer: NodeJS.Timeout | undefined;
  private stallBuffered = 0;
  private stallProgressAt = 0;
  private drainedSinceCheck = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(opts: StreamConnectionOptions) {
    this.slot = opts.slot;
    this.id = opts.id;
    this.endpoint = opts.endpoint;
    this.opts = opts;
    this.paused = opts.paused;
    this.log = opts.logger;
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    const wsOptions: ClientOptions & { closeTimeout: number } = {
      handshakeTimeout: opts.handshakeTimeoutMs,
      maxPayload: opts.maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
      closeTimeout: CLOSE_TIMEOUT_MS,
      headers: { 'User-Agent': opts.ua },
    };
    this.ws = new WebSocket(opts.url, wsOptions);
    this.ws.once('upgrade', (res) => {
      this.tcp = res.socket;
      res.socket.on('drain', this.onTcpDrain);
    });
    this.ws.on('message', this.onMessage);
    this.ws.on('pong', this.onPong);
    this.ws.on('close', this.onSocketClose);
    // Errors after open are followed by 'close', which drives reconnects; before open, open() reports them.
    this.ws.on('error', this.onSocketError);
  }

  /** Resolves when the socket is open; rejects with ERR_CONNECT when the handshake fails. */
  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        this.ws.off('open', onOpen);
        this.ws.off('error', onError);
        this.ws.off('close', onClose);
      };
      const onOpen = () => {
        cleanup();
        this.connectedAt = Date.now();
        this.lastSeen = this.connectedAt;
        if (this.paused) this.ws.pause();
        this.scheduleKeepalive(this.opts.keepalive.intervalMs);
        resolve();
      };
      const onError = (err: Error) => {
        cleanup();
        const m = /Unexpected server response: (\d+)/.exec(err.message);
        const status = m ? Number(m[1]) : undefined;
        reject(
          new StreamConnectError(
            ErrorCode.Connect,
            `WebSocket handshake with ${this.endpoint} failed: ${err.message}`,
            {
              status,
              permanent: false,
              cause: err,
            },
          ),
        );
      };
      const onClose = (code: number) => {
        cleanup();
        reject(
          new StreamConnectError(
            ErrorCode.Connect,
            `WebSocket to ${this.endpoint} closed during handshake (${code})`,
            {
              permanent: false,
            },
          ),
        );
      };
      this.ws.on('open', onOpen);
      this.ws.on('error', onError);
      this.ws.on('close', onClose);
    });
  }

  /** Acks queued for the end of this turn (not yet handed to the socket). */
  get pendingAcks(): number {
    return this.outbox.length;
  }

  /** True while acks can be sent. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one text frame. Frames sent in the same turn of the event loop (the acks of one TCP read,
   * including handlers that settle in microtasks) go out in one corked write after the current
   * microtasks, instead of one syscall each, and in groups of {@link ACK_BATCH_MAX} when more come in one
   * turn. Returns false (and sends nothing) when the socket is no longer open.
   */
  send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.outbox.push(text) >= ACK_BATCH_MAX) {
      // The flush already scheduled for this turn sends what comes after.
      this.writeOutbox();
      return true;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    return true;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.writeOutbox();
  };

  /** Writes the queued acks in one corked write. */
  private writeOutbox(): void {
    const batch = this.outbox;
    if (batch.length === 0) return;
    this.outbox = [];
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.log.warn({ connection: this.id, dropped: batch.length }, 'acks not sent: the connection closed');
      return;
    }
    const tcp = this.tcp;
    const { maxBytes } = this.opts.sendBuffer;
    let overflow = false;
    tcp?.cork();
    try {
      for (const text of batch) {
        // The gateway is not reading what we send (a stuck peer, or acks piling up faster than it
        // reads): past the cap the connection counts as dead, rather than buffering without bound.
        if (this.ws.bufferedAmount + text.length > maxBytes) {
          overflow = true;
          break;
        }
        this.ws.send(text);
      }
    } catch (err) {
      // ws does not throw on an open socket; if it ever does, log it rather than crash the process.
      this.log.error({ connection: this.id, err: toError(err) }, 'sending acks failed');
    } finally {
      tcp?.uncork();
    }
    if (overflow) {
      this.log.warn(
        { connection: this.id, slot: this.slot, bufferedAmount: this.ws.bufferedAmount, maxBytes },
        'send buffer full: the gateway is not reading; terminating the connection (unsent acks are redelivered)',
      );
      this.ws.terminate();
      return;
    }
    if (this.stallTimer === undefined && this.ws.bufferedAmount > 0) this.watchStall();
  }

  /** Checks a few times per stall timeout whether the send buffer drains; stops once it is empty. */
  private watchStall(): void {
    const { stallTimeoutMs } = this.opts.sendBuffer;
    this.stallBuffered = this.ws.bufferedAmount;
    this.stallProgressAt = Date.now();
    this.drainedSinceCheck = false;
    this.stallTimer = setInterval(this.checkStall, Math.max(20, Math.min(1_000, stallTimeoutMs / 4)));
  }

  private readonly onTcpDrain = (): void => {
    this.drainedSinceCheck = true;
  };

  private readonly checkStall = (): void => {
    const buffered = this.ws.bufferedAmount;
    const now = Date.now();
    if (buffered === 0 || this.closed) {
      clearInterval(this.stallTimer);
      this.stallTimer = undefined;
      return;
    }
    if (this.drainedSinceCheck || buffered < this.stallBuffered) this.stallProgressAt = now;
    this.drainedSinceCheck = false;
    this.stallBuffered = buffered;
    const { stallTimeoutMs } = this.opts.sendBuffer;
    if (now - this.stallProgressAt < stallTimeoutMs) return;
    clearInterval(this.stallTimer);
    this.stallTimer = undefined;
    this.log.warn(
      { connection: this.id, slot: this.slot, bufferedAmount: buffered, stallTimeoutMs },
      'send buffer stalled: the gateway has read nothing we sent; terminating the connection',
    );
    this.ws.terminate();
  };

  /** Stops reading from the socket (TCP backpressure). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.ws.pause();
  }

  /** Reads again; the watchdog counts from now. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastSeen = Date.now();
    this.ws.resume();
  }

  /**
   * Marks the connection as retiring (the server sent `disconnect`). It keeps delivering and acking;
   * the owner closes it once drained, and it is terminated after `maxMs` at the latest.
   */
  retire(maxMs: number): void {
    if (this.retiring || this.closed) return;
    this.retiring = true;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = undefined;
      this.log.warn(
        { connection: this.id, slot: this.slot, pending: this.pending },
        'retiring connection did not drain in time; terminating',
      );
      this.terminate();
    }, maxMs);
  }

  /** Sends the queued acks, then starts a clean close (1000). Resolves when the socket is closed. */
  close(reason: string): Promise<void> {
    this.flush();
    if (!this.closed) {
      const state = this.ws.readyState;
      if (state === WebSocket.CONNECTING) this.ws.terminate();
      else if (state === WebSocket.OPEN) this.ws.close(1000, reason);
    }
    return this.closedPromise;
  }

  /** Destroys the socket at once (no closing handshake). */
  terminate(): void {
    if (!this.closed) this.ws.terminate();
  }

  /** Resolves once the socket has closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  private readonly onMessage = (data: RawData): void => {
    const now = Date.now();
    this.lastSeen = now;
    this.opts.onFrame(this, data, now);
  };

  private readonly onPong = (): void => {
    this.lastSeen = Date.now();
    if (this.pongTimer !== undefined) {
      clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
      this.scheduleKeepalive(this.opts.keepalive.intervalMs);
    }
  };

  private scheduleKeepalive(delayMs: number): void {
    if (!this.opts.keepalive.enabled || this.closed) return;
    this.keepaliveTimer = setTimeout(this.onKeepaliveTick, delayMs);
  }

  private readonly onKeepaliveTick = (): void => {
    this.keepaliveTimer = undefined;
    if (this.closed) return;
    const { intervalMs, timeoutMs } = this.opts.keepalive;
    const idle = Date.now() - this.lastSeen;
    // Paused = we chose not to read; that is not a dead peer.
    if (this.paused || idle < intervalMs) {
      this.scheduleKeepalive(this.paused ? intervalMs : intervalMs - idle);
      return;
    }
    this.pingSentAt = Date.now();
    this.ws.ping();
    this.pongTimer = setTimeout(this.onPongTimeout, timeoutMs);
  };

  private readonly onPongTimeout = (): void => {
    this.pongTimer = undefined;
    if (this.closed) return;
    if (this.lastSeen >= this.pingSentAt) {
      // Traffic arrived while we waited: the peer is alive.
      this.scheduleKeepalive(this.opts.keepalive.intervalMs);
      return;
    }
    this.log.warn(
      { connection: this.id, slot: this.slot, timeoutMs: this.opts.keepalive.timeoutMs },
      'no pong from the gateway; terminating the connection',
    );
    this.ws.terminate();
  };

  private readonly onSocketError = (err: Error): void => {
    if (this.connectedAt === 0) return; // reported by open()
    this.log.warn({ connection: this.id, slot: this.slot, err: toError(err).message }, 'WebSocket error');
  };

  private readonly onSocketClose = (code: number, reason: Buffer): void => {
    this.closed = true;
    for (const t of [this.keepaliveTimer, this.pongTimer, this.retireTimer])
      if (t !== undefined) clearTimeout(t);
    if (this.stallTimer !== undefined) clearInterval(this.stallTimer);
    this.keepaliveTimer = this.pongTimer = this.retireTimer = this.stallTimer = undefined;
    this.tcp?.off('drain', this.onTcpDrain);
    this.resolveClosed();
    this.opts.onClose(this, code, reason.toString());
  };
}
