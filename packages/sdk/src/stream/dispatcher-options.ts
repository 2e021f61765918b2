import type { Logger } from '../logging/logger.js';
import type { StreamConnection } from './connection.js';
import type { DedupStore } from './dedup-store.js';
import type { HandlerRegistry } from './handlers.js';
import type { StreamObserver } from './observer.js';

/** What the dispatcher asks of the connection layer. */
export interface DispatcherHooks {
  /** Stop reading from every socket (maxInFlight reached). */
  pauseReading(): void;
  /** Read again. */
  resumeReading(): void;
  /** The gateway sent SYSTEM `disconnect` on `conn`. */
  onDisconnect(conn: StreamConnection, reason: string): void;
  /** A retiring connection has answered everything it received. */
  onDrained(conn: StreamConnection): void;
}

export interface DispatcherOptions {
  registry: HandlerRegistry;
  dedupStore: DedupStore;
  dedupTtlMs: number;
  /** Lease protocol: a claim is held for the handler deadline plus this margin. */
  leaseMarginMs: number;
  /**
   * Lease protocol with a store that renews: one lease lasts this long and is renewed while the handler
   * runs (never past the handler deadline plus `leaseMarginMs`). Default: no renewal.
   */
  leaseMs?: number;
  /** How long the platform redelivers an unacked EVENT: a longer lease is warned about at start. */
  redeliveryHorizonMs?: number;
  handlerTimeoutMs: number;
  maxInFlight: number;
  maxFrameBytes: number;
  /** Rate limit of the malformed-frame warnings. */
  malformedFrameLog: { burst: number; perSecond: number };
  logger: Logger;
  hooks: DispatcherHooks;
  /** Told the outcome of every message (metrics). */
  observer?: StreamObserver | undefined;
}

/** Counters for `status()`. */
export interface DispatcherStatus {
  /** Handlers running (or awaiting their dedup claim). */
  inFlight: number;
  /** Messages read but waiting for a free slot. */
  queued: number;
  /** Handlers that missed their deadline (already answered) and have not settled yet. */
  abandoned: number;
}
