import type { UpstreamAck } from '@dingtalk-skills/sdk/protocol';
import type { DeliveryRecord } from './delivery-log.js';
import type { TimerHandle, TimerSet } from './timers.js';

/** What kind of frame awaits its ack: ack faults apply to `event` and `callback` only. */
export type PendingKind = 'event' | 'callback' | 'ping' | 'system' | 'raw';

/** How the sender of a frame learns what became of it. Exactly one method is called, once. */
export interface AckHandler {
  /** The ack arrived in time (after any ack fault). May throw a ProtocolError: then `onMalformed`. */
  onAck(ack: UpstreamAck, record: DeliveryRecord): void;
  /** An ack for this message arrived but could not be read. */
  onMalformed(error: string, record: DeliveryRecord): void;
  /** No ack before the deadline. */
  onTimeout(record: DeliveryRecord): void;
  /** The connection closed (or the gateway stopped) before the ack. */
  onLost(record: DeliveryRecord): void;
}

export interface PendingEntry {
  messageId: string;
  connectionId: string;
  kind: PendingKind;
  record: DeliveryRecord;
  handler: AckHandler;
  timer: TimerHandle | undefined;
}

/** Messages sent and awaiting their ack, by messageId, each with its deadline. */
export class PendingAcks {
  readonly #entries = new Map<string, PendingEntry>();
  readonly #timers: TimerSet;

  constructor(timers: TimerSet) {
    this.#timers = timers;
  }

  expect(
    messageId: string,
    connectionId: string,
    kind: PendingKind,
    record: DeliveryRecord,
    timeoutMs: number,
    handler: AckHandler,
  ): void {
    const entry: PendingEntry = { messageId, connectionId, kind, record, handler, timer: undefined };
    // An EVENT's ack deadline is a sandbox clock time (advancing the clock makes it missing at once);
    // the others run on real time.
    const arm = kind === 'event' ? this.#timers.clockTimeout : this.#timers.timeout;
    entry.timer = arm.call(this.#timers, timeoutMs, () => {
      if (this.#entries.get(messageId) !== entry) return;
      this.#entries.delete(messageId);
      handler.onTimeout(record);
    });
    this.#entries.set(messageId, entry);
  }

  peek(messageId: string): PendingEntry | undefined {
    return this.#entries.get(messageId);
  }

  /** Removes the entry (and its deadline) so the caller can settle it. */
  take(messageId: string): PendingEntry | undefined {
    const entry = this.#entries.get(messageId);
    if (entry === undefined) return undefined;
    this.#entries.delete(messageId);
    this.#timers.clear(entry.timer);
    return entry;
  }

  /** Settles every entry of a closed connection as lost. */
  lostConnection(connectionId: string): void {
    for (const entry of [...this.#entries.values()])
      if (entry.connectionId === connectionId && this.take(entry.messageId))
        entry.handler.onLost(entry.record);
  }

  /** Settles every entry as lost (gateway closing). */
  loseAll(): void {
    for (const entry of [...this.#entries.values()])
      if (this.take(entry.messageId)) entry.handler.onLost(entry.record);
  }

  get size(): number {
    return this.#entries.size;
  }
}
