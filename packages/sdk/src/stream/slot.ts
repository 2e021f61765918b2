import { toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { ConnectionOpenResponse } from '../protocol/gateway.js';
import { backoffDelay } from './backoff.js';
import type { ResolvedStreamConfig } from './config.js';
import type { StreamConnection } from './connection.js';
import type { GatedSlot, PoolGate } from './pool-gate.js';

/** A connection asked to hand over after less than this, while connections are failing, backs off. */
const HANDOVER_MIN_UP_MS = 1_000;

/** Where one pool slot stands. */
export type SlotState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** A slot as reported by `StreamClient.status()`. */
export interface SlotStatus {
  slot: number;
  state: SlotState;
  /** When the current connection opened (ms since epoch), if there is one. */
  connectedAt: number | undefined;
  /** Consecutive failed or short-lived connections (drives the backoff); 0 when stable. */
  attempt: number;
  /** Connect attempts started so far (each one bumps it; late results of older ones are ignored). */
  generation: number;
  /** Old connections still draining after a server `disconnect`. */
  retiring: number;
  /** The last connect failure, if the slot has not connected since. */
  lastError: string | undefined;
}

/** What a slot needs from its client. */
export interface SlotHost {
  readonly config: ResolvedStreamConfig;
  readonly log: Logger;
  /** Paces connect attempts across the pool (staggered starts, one shared backoff while all fail). */
  readonly gate: PoolGate;
  /** Calls `connections/open` (aborted through `signal` when the client stops). */
  openTicket(signal: AbortSignal): Promise<ConnectionOpenResponse>;
  /** Builds (but does not open) the socket for a ticket. */
  createConnection(slot: ConnectionSlot, ticket: ConnectionOpenResponse): StreamConnection;
  slotConnecting(slot: ConnectionSlot): void;
  slotConnected(slot: ConnectionSlot, conn: StreamConnection): void;
  slotReconnecting(slot: ConnectionSlot, delayMs: number, reason: string): void;
  slotDisconnected(slot: ConnectionSlot, code: number, reason: string): void;
  /** A connection retired by a handover has closed. */
  slotRetiredClosed(slot: ConnectionSlot): void;
  /** A connect attempt failed. Returns true when it is fatal (the client gives up; no retry). */
  slotFailed(slot: ConnectionSlot, err: unknown): boolean;
}

/**
 * One connection of the pool and its lifecycle: connect, reconnect with backoff, and make-before-break
 * handover on `disconnect`. A generation counter guarantees one connect attempt at a time and lets
 * results of an attempt that was superseded (or stopped) be discarded.
 */
export class ConnectionSlot implements GatedSlot {
  state: SlotState = 'idle';
  generation = 0;
  attempt = 0;
  /** The connection new messages are expected on. */
  current: StreamConnection | undefined;
  /** Connections the server asked to go; they still deliver and ack until drained or closed. */
  readonly retiring = new Set<StreamConnection>();
  lastError: string | undefined;
  private connecting: StreamConnection | undefined;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private halted = false;
  /** The connect attempt in progress, if any. */
  private running: Promise<void> | undefined;

  constructor(
    readonly index: number,
    private readonly host: SlotHost,
  ) {}

  /** Starts a connect attempt now, if the pool's gate lets it (see {@link PoolGate}). */
  wake(): void {
    this.launch();
  }

  /** Starts a connect attempt after `delayMs` (a staggered start). */
  wakeAfter(delayMs: number): void {
    if (this.halted) return;
    this.clearTimer();
    if (this.state === 'idle') this.state = 'connecting';
    this.timer = setTimeout(this.onTimer, delayMs);
  }

  /** Every socket this slot holds (current, retiring, still connecting). */
  connections(): StreamConnection[] {
    const out: StreamConnection[] = [...this.retiring];
    if (this.current) out.push(this.current);
    if (this.connecting) out.push(this.connecting);
    return out;
  }

  status(): SlotStatus {
    return {
      slot: this.index,
      state: this.state,
      connectedAt: this.current?.connectedAt,
      attempt: this.attempt,
      generation: this.generation,
      retiring: this.retiring.size,
      lastError: this.lastError,
    };
  }

  /**
   * The gateway sent `disconnect` on `conn`: make before break. The old connection keeps delivering
   * and acking; the replacement is opened now (after a backoff delay only if this one was asked to go
   * within a second of opening while connections keep failing); the
   * old one is closed once the replacement is open and it has answered everything, or when the server
   * closes it.
   */
  handover(conn: StreamConnection, reason: string): void {
    // A disconnect read in the same turn as the socket opened comes before connect() has made the socket
    // current: take it once that has happened, instead of dropping it.
    if (!this.halted && conn === this.connecting) {
      setImmediate(() => this.handover(conn, reason));
      return;
    }
    if (this.halted || conn !== this.current) return;
    this.current = undefined;
    this.retiring.add(conn);
    conn.retire(this.host.config.handlerTimeoutMs + this.host.config.openTimeoutMs);
    this.resetIfStable(conn);
    const why = `gateway disconnect${reason ? `: ${reason}` : ''}`;
    // The gateway has stopped delivering to `conn`, so until the replacement is open nothing arrives:
    // open it at once, even after earlier failures. Only a connection asked to go right after it opened
    // (a gateway disconnecting in a loop) waits out the backoff.
    if (this.attempt > 0 && Date.now() - conn.connectedAt < HANDOVER_MIN_UP_MS) {
      this.scheduleReconnect(why);
      return;
    }
    this.attempt++;
    this.state = 'reconnecting';
    this.host.slotReconnecting(this, 0, why);
    this.launch();
  }

  /** A retiring connection answered everything it received. */
  drained(conn: StreamConnection): void {
    if (this.retiring.has(conn) && this.current !== undefined) void conn.close('replaced');
  }

  /** Passed to each connection as its close listener. */
  readonly onConnectionClosed = (conn: StreamConnection, code: number, reason: string): void => {
    if (this.retiring.delete(conn)) {
      this.host.log.debug({ slot: this.index, connection: conn.id, code }, 'retired connection closed');
      this.host.slotRetiredClosed(this);
      return;
    }
    if (conn !== this.current) return; // a socket of a failed or superseded attempt
    this.current = undefined;
    this.resetIfStable(conn);
    this.host.slotDisconnected(this, code, reason);
    if (this.halted) {
      this.state = 'stopped';
      return;
    }
    this.scheduleReconnect(`connection closed (${code}${reason ? ` ${reason}` : ''})`);
  };

  /**
   * Stops connecting: cancels the backoff timer, terminates a WebSocket still in its handshake, and
   * makes the result of a `connections/open` call in flight be ignored. That call is left to finish
   * (aborting a fetch can leave a pooled socket behind); {@link abortPending} cuts it short.
   * Open sockets stay open.
   */
  halt(): void {
    this.halted = true;
    this.generation++;
    this.clearTimer();
    this.connecting?.terminate();
    if (this.state !== 'connected') this.state = 'stopped';
  }

  /** Resolves when no connect attempt is in progress. */
  whenIdle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Aborts a `connections/open` call still in flight. */
  abortPending(): void {
    this.abort?.abort(new Error('client stopping'));
    this.abort = undefined;
  }

  /** Marks the slot stopped once its sockets are closed. */
  markStopped(): void {
    this.state = 'stopped';
  }

  /** Starts a connect attempt unless one is running: never two attempts for one slot at once. */
  private launch(): void {
    if (this.halted || this.running !== undefined) return;
    if (!this.host.gate.mayConnect(this)) {
      // Parked: the pool is failing and another slot probes; the gate starts this one again later.
      this.clearTimer();
      if (this.state !== 'connected') this.state = 'reconnecting';
      return;
    }
    const run = this.connect()
      .catch((err: unknown) => {
        this.host.log.error({ slot: this.index, err: toError(err) }, 'unexpected error while connecting');
      })
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
  }

  private async connect(): Promise<void> {
    this.clearTimer();
    const gen = ++this.generation;
    this.state = 'connecting';
    this.host.slotConnecting(this);
    const ac = new AbortController();
    this.abort = ac;
    let conn: StreamConnection | undefined;
    try {
      const ticket = await this.host.openTicket(ac.signal);
      if (this.abort === ac) this.abort = undefined;
      if (gen !== this.generation) return;
      conn = this.host.createConnection(this, ticket);
      this.connecting = conn;
      await conn.open();
    } catch (err) {
      conn?.terminate();
      if (this.abort === ac) this.abort = undefined;
      if (gen !== this.generation) return;
      this.connecting = undefined;
      this.lastError = toError(err).message;
      if (!this.host.slotFailed(this, err)) this.scheduleReconnect(this.lastError);
      return;
    }
    if (gen !== this.generation) {
      void conn.close('superseded');
      return;
    }
    this.connecting = undefined;
    this.current = conn;
    this.state = 'connected';
    this.lastError = undefined;
    this.host.slotConnected(this, conn);
    for (const old of this.retiring) if (old.pending === 0) void old.close('replaced');
  }

  private scheduleReconnect(reason: string): void {
    if (this.halted) return;
    // No slot connected: the pool shares one backoff (this slot waits, parked, for the gate).
    const shared = this.host.gate.failed(this, this.attempt);
    if (shared !== undefined) {
      this.attempt++;
      this.state = 'reconnecting';
      this.host.slotReconnecting(this, shared, reason);
      return;
    }
    const delayMs = backoffDelay(this.host.config.reconnect, this.attempt);
    this.attempt++;
    this.state = 'reconnecting';
    this.host.slotReconnecting(this, delayMs, reason);
    this.timer = setTimeout(this.onTimer, delayMs);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.launch();
  };

  /** A connection that stayed up long enough wipes out the failure streak. */
  private resetIfStable(conn: StreamConnection): void {
    if (conn.connectedAt > 0 && Date.now() - conn.connectedAt >= this.host.config.reconnect.resetAfterMs)
      this.attempt = 0;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
