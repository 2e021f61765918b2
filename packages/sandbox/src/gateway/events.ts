import { randomUUID } from 'node:crypto';
import { readEventAck, type UpstreamAck } from '@dingtalk-skills/sdk/protocol';
import { SEED_CORP } from '../seed.js';
import { ackHasStatus, ackRecord, malformedAckRecord } from './ack-records.js';
import type { GatewayConnection } from './connection.js';
import type { GatewayCore } from './core.js';
import type { DeliveryRecord } from './delivery-log.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import { buildEventFrame, newMessageId, unifiedAppIdFor } from './frames.js';
import type { AckHandler } from './pending.js';
import type { TimerHandle } from './timers.js';

/** An EVENT to push to an app's connections. */
export interface EventPush {
  /** The app (default: the first registered app). */
  clientId?: string;
  eventType: string;
  /** The event payload; serialized as the frame's `data` JSON string. */
  data?: unknown;
  /** Sent as the frame's `data` exactly as given (to test clients with odd payloads); overrides `data`. */
  rawData?: string;
  /** Default: a fresh uuid. Reused on every redelivery. */
  eventId?: string;
  /** `eventCorpId` header (default: the seed corp). */
  corpId?: string;
  /** After the event is acked, deliver one more copy with the same eventId (duplicates happen on the real platform). */
  duplicate?: boolean;
}

/**
 * Final state of a pushed EVENT. `expired`: it was held (no live connection) longer than
 * `heldEventRetentionMs` and was dropped undelivered.
 */
export type EventStatus = 'pending' | 'acked' | 'failed' | 'cancelled' | 'expired';

export interface EventResult {
  eventId: string;
  status: EventStatus;
  /** Frames sent for it, duplicate copy excluded. */
  attempts: number;
  /** messageId of each attempt, in order. */
  messageIds: string[];
  /** messageId of the duplicate copy, when one was sent. */
  duplicateMessageId?: string;
}

/** Answer of a push: the first frame's ids, and a promise of the final result. */
export interface PushedEvent {
  eventId: string;
  /** The first frame's messageId; undefined while the event is held. */
  messageId: string | undefined;
  /** Set when the app had no live connection: the event waits (sandbox clock ms since) for one. */
  heldSince?: number;
  /** Resolves when the event is acked (and its duplicate settled), given up, or cancelled. Never rejects. */
  done: Promise<EventResult>;
}

interface Delivery {
  eventId: string;
  appId: string;
  eventType: string;
  corpId: string;
  bornTime: number;
  dataText: string;
  duplicate: boolean;
  status: EventStatus;
  attempts: number;
  retryIndex: number;
  messageIds: string[];
  duplicateMessageId: string | undefined;
  retryTimer: TimerHandle | undefined;
  /** While held: when it was pushed, and the timer that drops it after the retention. */
  heldSince: number | undefined;
  expiryTimer: TimerHandle | undefined;
  resolve: (r: EventResult) => void;
}

/**
 * EVENT delivery: to one random subscribed connection; a missing ack (after `ackTimeoutMs`), a LATER
 * ack, a non-200 code, a malformed ack or a lost connection schedules a redelivery after the next
 * delay of `eventRedelivery` (same eventId, new messageId, possibly another connection); after the
 * last delay the gateway gives up (`failed`).
 */
export class EventDeliveries {
  readonly #core: GatewayCore;
  readonly #active = new Set<Delivery>();
  /** EVENTs pushed while their app had no live connection, per app, oldest first. */
  readonly #held = new Map<string, Delivery[]>();

  constructor(core: GatewayCore) {
    this.#core = core;
  }

  /**
   * Pushes an EVENT. With no live connection subscribed to EVENT `*` the event is held (the platform
   * keeps unacked events) until one connects, at most `heldEventLimit` per app for
   * `heldEventRetentionMs`. Throws `unknownApp`, `frameTooLarge`, `heldEventsFull` (the app's held
   * events are at the limit) or `noSubscriber` (no connection and `heldEventLimit` 0).
   */
  push(input: EventPush): PushedEvent {
    const { ctx } = this.#core;
    const app = this.#core.resolveApp(input.clientId);
    const conn = this.#core.pick(app.clientId, 'EVENT', '*');
    const held = this.#held.get(app.clientId) ?? [];
    if (conn === undefined) {
      const limit = ctx.options.heldEventLimit;
      if (limit === 0)
        throw new GatewayError(
          GatewayErrorCode.NoSubscriber,
          `no live connection of app ${app.clientId} subscribes to EVENT "*"`,
        );
      if (held.length >= limit) {
        this.#warnFull(app.clientId, limit);
        throw new GatewayError(
          GatewayErrorCode.HeldEventsFull,
          `app ${app.clientId} has no live connection and already ${held.length} held events (heldEventLimit ${limit})`,
        );
      }
    }
    let resolve: (r: EventResult) => void = () => undefined;
    const done = new Promise<EventResult>((r) => {
      resolve = r;
    });
    const d: Delivery = {
      eventId: input.eventId ?? randomUUID(),
      appId: app.clientId,
      eventType: input.eventType,
      corpId: input.corpId ?? SEED_CORP.corpId,
      bornTime: ctx.clock.now(),
      dataText: input.rawData ?? JSON.stringify(input.data ?? {}),
      duplicate: input.duplicate === true,
      status: 'pending',
      attempts: 0,
      retryIndex: 0,
      messageIds: [],
      duplicateMessageId: undefined,
      retryTimer: undefined,
      heldSince: undefined,
      expiryTimer: undefined,
      resolve,
    };
    if (conn === undefined) return this.#hold(d, held, done);
    // The first send throws frameTooLarge before anything is registered.
    const record = this.#sendCopy(d, conn, false);
    this.#active.add(d);
    this.#expect(d, record, false);
    return { eventId: d.eventId, messageId: record.messageId, done };
  }

  /** Settles every pending event as `cancelled` (reset, close). */
  cancelAll(): void {
    this.#held.clear();
    for (const d of [...this.#active]) {
      this.#core.timers.clear(d.retryTimer);
      this.#core.timers.clear(d.expiryTimer);
      this.#settle(d, 'cancelled');
    }
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /** EVENTs held for the app (or all apps), oldest first. */
  heldEvents(
    appId?: string,
  ): Array<{ eventId: string; appId: string; eventType: string; heldSince: number }> {
    const lists = appId === undefined ? [...this.#held.values()] : [this.#held.get(appId) ?? []];
    return lists.flat().map((d) => ({
      eventId: d.eventId,
      appId: d.appId,
      eventType: d.eventType,
      heldSince: d.heldSince ?? d.bornTime,
    }));
  }

  /** A connection of the app subscribed to EVENT `*` opened: delivers the app's held events, oldest first. */
  releaseHeld(appId: string): void {
    const held = this.#held.get(appId);
    if (held === undefined) return;
    this.#held.delete(appId);
    this.#core.ctx.logger.info(
      { appId, count: held.length },
      'delivering events held while the app had no connection',
    );
    for (const d of held) {
      this.#core.timers.clear(d.expiryTimer);
      d.expiryTimer = undefined;
      this.#attempt(d);
    }
  }

  #hold(d: Delivery, held: Delivery[], done: Promise<EventResult>): PushedEvent {
    const { ctx, timers } = this.#core;
    // Same size check as a send, so an event too large is refused now, not at delivery.
    if (Buffer.byteLength(d.dataText, 'utf8') > ctx.options.maxFrameBytes)
      throw new GatewayError(
        GatewayErrorCode.FrameTooLarge,
        `event data is larger than maxFrameBytes (${ctx.options.maxFrameBytes})`,
      );
    d.heldSince = ctx.clock.now();
    held.push(d);
    this.#held.set(d.appId, held);
    this.#active.add(d);
    d.expiryTimer = timers.clockTimeout(ctx.options.heldEventRetentionMs, () => {
      d.expiryTimer = undefined;
      const list = this.#held.get(d.appId);
      const i = list?.indexOf(d) ?? -1;
      if (list === undefined || i < 0) return;
      list.splice(i, 1);
      if (list.length === 0) this.#held.delete(d.appId);
      ctx.logger.warn(
        { eventId: d.eventId, appId: d.appId, heldMs: ctx.clock.now() - (d.heldSince ?? d.bornTime) },
        'held event dropped: no connection within heldEventRetentionMs',
      );
      this.#settle(d, 'expired');
    });
    ctx.logger.info(
      { eventId: d.eventId, appId: d.appId, held: held.length },
      'event held: the app has no live connection subscribed to EVENT',
    );
    return { eventId: d.eventId, messageId: undefined, heldSince: d.heldSince, done };
  }

  #lastFullWarning = 0;

  /** One warning per app flood, at most every 10 s of real time. */
  #warnFull(appId: string, limit: number): void {
    const now = Date.now();
    if (now - this.#lastFullWarning < 10_000) return;
    this.#lastFullWarning = now;
    this.#core.ctx.logger.warn({ appId, heldEventLimit: limit }, 'event refused: held events at the limit');
  }

  #sendCopy(d: Delivery, conn: GatewayConnection, duplicate: boolean): DeliveryRecord {
    const { ctx } = this.#core;
    const messageId = newMessageId();
    const frame = buildEventFrame(
      { topic: '*', messageId, appId: d.appId, connectionId: conn.id, now: ctx.clock.now() },
      {
        eventId: d.eventId,
        eventType: d.eventType,
        eventCorpId: d.corpId,
        eventBornTime: d.bornTime,
        eventUnifiedAppId: unifiedAppIdFor(d.appId),
      },
      d.dataText,
    );
    const record = this.#core.send(conn, frame, {
      attempt: duplicate ? d.attempts : d.attempts + 1,
      duplicate,
      ...(d.heldSince !== undefined && d.attempts === 0 && !duplicate ? { heldSince: d.heldSince } : {}),
    });
    if (duplicate) d.duplicateMessageId = messageId;
    else {
      d.attempts++;
      d.messageIds.push(messageId);
    }
    return record;
  }

  #attempt(d: Delivery): void {
    if (d.status !== 'pending') return;
    const conn = this.#core.pick(d.appId, 'EVENT', '*');
    if (conn === undefined) {
      this.#core.ctx.logger.info(
        { eventId: d.eventId, appId: d.appId },
        'event redelivery: no live connection subscribes to EVENT; trying again later',
      );
      this.#retryLater(d);
      return;
    }
    let record: DeliveryRecord;
    try {
      record = this.#sendCopy(d, conn, false);
    } catch (err) {
      this.#core.ctx.logger.warn({ eventId: d.eventId, err }, 'event redelivery failed to send');
      this.#retryLater(d);
      return;
    }
    this.#expect(d, record, false);
  }

  #expect(d: Delivery, record: DeliveryRecord, duplicate: boolean): void {
    const { ctx, pending } = this.#core;
    const failed = (): void => {
      if (!duplicate) this.#retryLater(d);
      else d.resolve(this.#result(d));
    };
    const handler: AckHandler = {
      onAck: (ack: UpstreamAck, rec) => {
        const a = ackRecord(ack, ctx.clock.now());
        const outcome = readEventAck(ack); // throws ProtocolError when data is not JSON
        a.status = outcome.status;
        if (a.variant !== 'error-code' && ack.data && !ackHasStatus(ack)) a.variant = 'no-status';
        rec.ack = a;
        if (outcome.status === 'SUCCESS') {
          rec.outcome = 'acked';
          if (duplicate) d.resolve(this.#result(d));
          else this.#acked(d);
        } else {
          rec.outcome = 'later';
          failed();
        }
      },
      onMalformed: (error, rec) => {
        rec.ack = malformedAckRecord(error, ctx.clock.now());
        rec.outcome = 'malformed';
        failed();
      },
      onTimeout: (rec) => {
        rec.outcome = 'timeout';
        failed();
      },
      onLost: (rec) => {
        rec.outcome = 'connectionLost';
        failed();
      },
    };
    pending.expect(record.messageId, record.connectionId, 'event', record, ctx.options.ackTimeoutMs, handler);
  }

  #acked(d: Delivery): void {
    if (d.status !== 'pending') return;
    d.status = 'acked';
    this.#active.delete(d);
    if (!d.duplicate) {
      d.resolve(this.#result(d));
      return;
    }
    const conn = this.#core.pick(d.appId, 'EVENT', '*');
    if (conn === undefined) {
      d.resolve(this.#result(d));
      return;
    }
    try {
      const record = this.#sendCopy(d, conn, true);
      this.#expect(d, record, true);
    } catch (err) {
      this.#core.ctx.logger.warn({ eventId: d.eventId, err }, 'duplicate event copy not sent');
      d.resolve(this.#result(d));
    }
  }

  #retryLater(d: Delivery): void {
    if (d.status !== 'pending') return;
    const delay = this.#core.ctx.options.eventRedelivery[d.retryIndex];
    if (delay === undefined) {
      this.#core.ctx.logger.warn(
        { eventId: d.eventId, attempts: d.attempts },
        'event not acked after the last redelivery: giving up',
      );
      this.#settle(d, 'failed');
      return;
    }
    d.retryIndex++;
    d.retryTimer = this.#core.timers.clockTimeout(delay, () => {
      d.retryTimer = undefined;
      this.#attempt(d);
    });
  }

  #settle(d: Delivery, status: EventStatus): void {
    if (d.status !== 'pending') return;
    d.status = status;
    this.#active.delete(d);
    d.resolve(this.#result(d));
  }

  #result(d: Delivery): EventResult {
    const r: EventResult = {
      eventId: d.eventId,
      status: d.status,
      attempts: d.attempts,
      messageIds: [...d.messageIds],
    };
    if (d.duplicateMessageId !== undefined) r.duplicateMessageId = d.duplicateMessageId;
    return r;
  }
}
