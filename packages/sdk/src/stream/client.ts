import { EventEmitter } from 'node:events';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { type ConnectionOpenResponse, ticketUrl } from '../protocol/gateway.js';
import { type ResolvedStreamConfig, resolveStreamConfig, type StreamClientConfig } from './config.js';
import { StreamConnectError } from './connect-error.js';
import { StreamConnection } from './connection.js';
import { Dispatcher } from './dispatcher.js';
import {
  HandlerRegistry,
  type StreamCallbackHandler,
  type StreamCallbackOptions,
  type StreamEventHandler,
} from './handlers.js';
import { openTicket } from './open-ticket.js';
import { PoolGate } from './pool-gate.js';
import { ConnectionSlot, type SlotHost, type SlotStatus } from './slot.js';

/** Where the client as a whole stands. */
export type StreamClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopping' | 'stopped';

/** Snapshot returned by {@link StreamClient.status}. */
export interface StreamClientStatus {
  state: StreamClientState;
  connections: SlotStatus[];
  /** Handlers running now. */
  inFlight: number;
  /** Messages read and waiting for a free handler slot. */
  queued: number;
  /** Handlers that missed their deadline (their message was answered) and are still running. */
  abandoned: number;
}

/** Events of a {@link StreamClient} (listen with `client.on(name, listener)`). */
export interface StreamClientEvents {
  /** A slot starts a connect attempt (`attempt` = failures before it). */
  connecting: [info: { slot: number; attempt: number }];
  /** A slot's socket is open. */
  connected: [info: { slot: number; connectionId: number; endpoint: string }];
  /** A slot will try again after `delayMs` (0 for a handover after `disconnect`). */
  reconnecting: [info: { slot: number; attempt: number; delayMs: number; reason: string }];
  /** A slot's current socket closed. */
  disconnected: [info: { slot: number; code: number; reason: string }];
  /** `stop()` finished: no sockets, no timers. */
  stopped: [];
  /**
   * A connect attempt failed (`ERR_CREDENTIALS` or `ERR_CONNECT`). Only emitted when someone listens,
   * so an unhandled 'error' never crashes the process; every failure is logged either way.
   */
  error: [error: DingTalkSkillsError, info: { slot: number }];
}

/**
 * DingTalk Stream mode client: keeps a pool of WebSocket connections to the gateway, dispatches EVENT and
 * CALLBACK frames to handlers, and acks each one on the socket it came in on.
 *
 * ```ts
 * const client = new StreamClient({ clientId, clientSecret });
 * client.onCallback(Topic.GraphInvoke, async (msg) => ({ statusLine: { code: 200, reasonPhrase: 'OK' }, headers: {}, body: '{}' }));
 * client.onEvent((event) => { console.log(event.eventType); });
 * await client.start();
 * // ...
 * await client.stop();
 * ```
 *
 * Guarantees: reconnects with capped, jittered backoff; opens the replacement before closing a socket the
 * gateway asked to go; dedupes EVENTs by event id; never runs more than `maxInFlight` handlers and stops
 * reading when at the limit; answers every handler within its deadline; `stop()` leaves no timer or socket.
 * A client is started once; create a new one to start again.
 */
export class StreamClient extends EventEmitter<StreamClientEvents> {
  private readonly config: ResolvedStreamConfig;
  private readonly log: Logger;
  private readonly registry: HandlerRegistry;
  private readonly slots: ConnectionSlot[] = [];
  private readonly gate: PoolGate;
  private dispatcher: Dispatcher | undefined;
  private state: StreamClientState = 'idle';
  private everConnected = false;
  private paused = false;
  private nextConnectionId = 1;
  private startPromise: Promise<void> | undefined;
  private settleStart: ((err?: Error) => void) | undefined;
  private startError: Error | undefined;
  private stopPromise: Promise<void> | undefined;

  /** Validates `config` (throws `ERR_CONFIG`). Nothing connects before {@link start}. */
  constructor(config: StreamClientConfig) {
    super();
    this.config = resolveStreamConfig(config);
    this.log = this.config.logger.child({ component: 'dingtalk-stream', clientId: this.config.clientId });
    this.registry = new HandlerRegistry(this.config.handlerTimeoutMs);
    this.gate = new PoolGate({
      policy: this.config.reconnect,
      // Slot starts spread over the first retry interval per slot (at most 1 s).
      staggerWindowMs: Math.min(1_000, this.config.reconnect.initialDelayMs * (this.config.connections - 1)),
      anyConnected: () => this.slots.some((s) => s.current !== undefined),
    });
    const host = this.slotHost();
    for (let i = 0; i < this.config.connections; i++) this.slots.push(new ConnectionSlot(i, host));
  }

  /** Registers the handler of every EVENT (subscribes to EVENT `*`). Before {@link start} only. */
  onEvent(handler: StreamEventHandler): this {
    this.registry.setEventHandler(handler);
    return this;
  }

  /** Registers the handler of one CALLBACK topic (subscribes to it). Before {@link start} only. */
  onCallback(topic: string, handler: StreamCallbackHandler, options?: StreamCallbackOptions): this {
    this.registry.addCallback(topic, handler, options);
    return this;
  }

  /**
   * Opens the pool. Resolves once one connection is up (the others keep connecting in the background).
   * Rejects with `ERR_CREDENTIALS` when DingTalk rejects the credentials, or `ERR_CONNECT` for another
   * permanent 4xx, before any connection was up: the client is then stopped (no retries). Transient
   * failures (network, 5xx, handshake) are retried with backoff until it connects or {@link stop} is
   * called (then it rejects with `ERR_STOPPED`). Calling it again returns the same promise.
   */
  start(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped')
      return Promise.reject(
        new DingTalkSkillsError(ErrorCode.Stopped, 'a stopped StreamClient cannot be started again'),
      );
    if (this.registry.subscriptions().length === 0)
      return Promise.reject(
        new DingTalkSkillsError(ErrorCode.Config, 'register onEvent or onCallback handlers before start()'),
      );
    if (this.startPromise) return this.startPromise;
    this.registry.freeze();
    this.dispatcher = new Dispatcher({
      registry: this.registry,
      dedupStore: this.config.dedupStore,
      dedupTtlMs: this.config.dedup.ttlMs,
      leaseMarginMs: this.config.dedup.leaseMarginMs,
      leaseMs: this.config.dedup.leaseMs,
      redeliveryHorizonMs: this.config.dedup.redeliveryHorizonMs,
      observer: this.config.observer,
      handlerTimeoutMs: this.config.handlerTimeoutMs,
      maxInFlight: this.config.maxInFlight,
      maxFrameBytes: this.config.maxFrameBytes,
      malformedFrameLog: this.config.malformedFrameLog,
      logger: this.log,
      hooks: {
        pauseReading: () => this.setPaused(true),
        resumeReading: () => this.setPaused(false),
        onDisconnect: (conn, reason) => this.slots[conn.slot]?.handover(conn, reason),
        onDrained: (conn) => this.slots[conn.slot]?.drained(conn),
      },
    });
    this.state = 'connecting';
    this.startPromise = new Promise<void>((resolve, reject) => {
      this.settleStart = (err) => {
        this.settleStart = undefined;
        if (err) reject(err);
        else resolve();
      };
    });
    this.log.info(
      { connections: this.config.connections, subscriptions: this.registry.subscriptions() },
      'starting Stream client',
    );
    this.gate.start(this.slots);
    return this.startPromise;
  }

  /**
   * Stops: takes no new messages (frames arriving now are left unacked, so the platform redelivers
   * them), lets running handlers finish and acks them (up to `stopTimeoutMs`, then they are answered
   * as timed out), closes every socket and clears every timer. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.stopPromise) this.stopPromise = this.shutdown();
    return this.stopPromise;
  }

  /** A snapshot of the client's state, its slots and its load. */
  status(): StreamClientStatus {
    const d = this.dispatcher?.status() ?? { inFlight: 0, queued: 0, abandoned: 0 };
    return {
      state: this.state,
      connections: this.slots.map((s) => s.status()),
      inFlight: d.inFlight,
      queued: d.queued,
      abandoned: d.abandoned,
    };
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    this.registry.freeze();
    this.log.info({}, 'stopping Stream client');
    this.gate.halt();
    for (const slot of this.slots) slot.halt();
    const dispatcher = this.dispatcher;
    dispatcher?.close();
    // In parallel, both bounded by stopTimeoutMs: running handlers finish and are acked; connect
    // attempts in flight settle (their results are discarded) or are aborted.
    await Promise.all([dispatcher?.drain(this.config.stopTimeoutMs), this.settleAttempts()]);
    await Promise.all(this.slots.flatMap((s) => s.connections()).map((c) => c.close('client stopping')));
    dispatcher?.dispose();
    for (const slot of this.slots) slot.markStopped();
    this.state = 'stopped';
    this.log.info({}, 'Stream client stopped');
    this.settleStart?.(
      this.startError ??
        new DingTalkSkillsError(ErrorCode.Stopped, 'StreamClient was stopped before it connected'),
    );
    this.emit('stopped');
  }

  /** Waits for connect attempts in flight, aborting those still running after stopTimeoutMs. */
  private async settleAttempts(): Promise<void> {
    const idle = Promise.all(this.slots.map((s) => s.whenIdle()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.stopTimeoutMs);
    });
    await Promise.race([idle, deadline]);
    clearTimeout(timer);
    for (const slot of this.slots) slot.abortPending();
    await idle;
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    for (const slot of this.slots)
      for (const conn of slot.connections()) {
        if (paused) conn.pause();
        else conn.resume();
      }
  }

  private emitError(err: DingTalkSkillsError, slot: number): void {
    if (this.listenerCount('error') > 0) this.emit('error', err, { slot });
  }

  private refreshState(): void {
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'idle') return;
    // A socket retiring after `disconnect` still delivers, so it counts as up during a handover.
    const up = this.slots.some((s) => s.current !== undefined || [...s.retiring].some((c) => c.isOpen));
    if (up) this.state = 'connected';
    else if (this.everConnected) this.state = 'reconnecting';
  }

  private slotHost(): SlotHost {
    const config = this.config;
    return {
      config,
      log: this.log,
      gate: this.gate,
      openTicket: (signal) =>
        openTicket({
          apiBase: config.apiBase,
          clientId: config.clientId,
          clientSecret: config.clientSecret,
          subscriptions: this.registry.subscriptions(),
          ua: config.ua,
          localIp: config.localIp,
          fetch: config.fetch,
          timeoutMs: config.openTimeoutMs,
          signal,
        }),
      createConnection: (slot, ticket) => this.createConnection(slot, ticket),
      slotConnecting: (slot) => {
        this.emit('connecting', { slot: slot.index, attempt: slot.attempt });
      },
      slotConnected: (slot, conn) => {
        this.everConnected = true;
        this.gate.connected(slot);
        this.refreshState();
        this.log.info(
          { slot: slot.index, connection: conn.id, endpoint: conn.endpoint },
          'Stream connection open',
        );
        this.emit('connected', { slot: slot.index, connectionId: conn.id, endpoint: conn.endpoint });
        this.settleStart?.();
      },
      slotReconnecting: (slot, delayMs, reason) => {
        this.refreshState();
        this.log.info(
          { slot: slot.index, attempt: slot.attempt, delayMs, reason },
          'Stream connection will reconnect',
        );
        this.emit('reconnecting', { slot: slot.index, attempt: slot.attempt, delayMs, reason });
      },
      slotRetiredClosed: () => this.refreshState(),
      slotDisconnected: (slot, code, reason) => {
        this.refreshState();
        this.log.info({ slot: slot.index, code, reason }, 'Stream connection closed');
        this.emit('disconnected', { slot: slot.index, code, reason });
      },
      slotFailed: (slot, thrown) => this.connectFailed(slot, thrown),
    };
  }

  private createConnection(slot: ConnectionSlot, ticket: ConnectionOpenResponse): StreamConnection {
    const c = this.config;
    return new StreamConnection({
      slot: slot.index,
      id: this.nextConnectionId++,
      url: ticketUrl(ticket),
      endpoint: ticket.endpoint,
      handshakeTimeoutMs: c.openTimeoutMs,
      // Frames above maxFrameBytes but below this get a logged drop; beyond it ws closes with 1009.
      maxPayload: Math.max(4 * c.maxFrameBytes, 1024 * 1024),
      keepalive: c.keepalive,
      sendBuffer: c.sendBuffer,
      ua: c.ua,
      paused: this.paused,
      logger: this.log,
      onFrame: this.dispatcher!.onFrame,
      onClose: slot.onConnectionClosed,
    });
  }

  /** Returns true when the failure is fatal: permanent (credentials, 4xx) before the first connection. */
  private connectFailed(slot: ConnectionSlot, thrown: unknown): boolean {
    const err =
      thrown instanceof StreamConnectError
        ? thrown
        : new StreamConnectError(ErrorCode.Connect, toError(thrown).message, {
            permanent: false,
            cause: thrown,
          });
    const fatal = err.permanent && !this.everConnected && this.state !== 'stopping';
    this.log[err.code === ErrorCode.Credentials ? 'error' : 'warn'](
      {
        slot: slot.index,
        code: err.code,
        status: err.status,
        platformCode: err.platformCode,
        requestId: err.requestId,
        attempt: slot.attempt,
      },
      fatal ? `${err.message}; giving up` : err.message,
    );
    this.emitError(err, slot.index);
    if (fatal) {
      this.startError = err;
      void this.stop();
    }
    return fatal;
  }
}
