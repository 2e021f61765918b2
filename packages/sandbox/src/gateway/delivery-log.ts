import type { FrameType } from '@dingtalk-skills/sdk/protocol';

/**
 * How an ack looked, named after the SDK that sends it that way:
 * - `standard`: code 200 with the data the reference asks for;
 * - `no-status`: an EVENT ack with code 200 and no `status` (Python echoes the event data): success;
 * - `error-code`: a code other than 200 (Go answers LATER with 500; 400/404/500 errors);
 * - `no-data` / `empty-data`: `data` missing or "" (Java, Python, Go);
 * - `echoed-headers`: extra headers echoed back (Node echoes every downstream header in the ping ack);
 * - `malformed`: not a readable ack (bad JSON, no messageId, non-integer code, `data` not JSON).
 */
export type AckVariant =
  | 'standard'
  | 'no-status'
  | 'error-code'
  | 'no-data'
  | 'empty-data'
  | 'echoed-headers'
  | 'malformed';

/** An ack as the gateway received it. */
export interface AckRecord {
  code: number | undefined;
  message: string | undefined;
  /** EVENT acks: SUCCESS or LATER as the platform read it. */
  status: string | undefined;
  /** The ack's `data` as sent (a JSON string), if any. */
  data: string | undefined;
  receivedAt: number;
  variant: AckVariant;
  /** Arrived after the deadline (ack timeout, callback timeout): recorded, not acted on. */
  late?: boolean;
  /** Ignored on purpose by the `withhold` ack fault. */
  withheld?: boolean;
  /** Held back by the `delay` ack fault for this long before being processed. */
  delayedMs?: number;
  /** Why the ack is malformed or wrong (ping opaque mismatch). */
  error?: string;
}

/**
 * What became of a message:
 * - `pending`: sent, no ack yet;
 * - `acked`: EVENT acked SUCCESS; `answered`: CALLBACK answered; `echoed`: ping answered with its opaque;
 * - `later`: EVENT acked LATER (or a non-200 code), redelivered per the schedule;
 * - `timeout`: no ack in time; `connectionLost`: the connection closed before the ack;
 * - `malformed`: the ack could not be read; `error`: the ack was wrong (callback error code, ping opaque mismatch);
 * - `sent`: a frame that expects nothing in particular (SYSTEM disconnect) or a raw frame;
 * - `unmatched`: an upstream message that matched no sent message.
 */
export type DeliveryOutcome =
  | 'pending'
  | 'acked'
  | 'answered'
  | 'echoed'
  | 'later'
  | 'timeout'
  | 'connectionLost'
  | 'malformed'
  | 'error'
  | 'sent'
  | 'unmatched';

/** One entry of the delivery log: a frame the gateway sent (or an upstream message it could not match). */
export interface DeliveryRecord {
  /** Increasing number; `GET /sandbox/deliveries?since=<seq>` returns entries after it. */
  seq: number;
  /** The frame type, or `UPSTREAM` for an ack that matched nothing. */
  type: FrameType | 'UPSTREAM' | 'RAW';
  topic: string;
  messageId: string;
  eventId?: string;
  /** clientId of the app. */
  appId: string;
  connectionId: string;
  /** 1 for the first delivery of an EVENT, 2 for the first redelivery, ... (always 1 otherwise). */
  attempt: number;
  /** The extra copy of an EVENT sent by `duplicate: true`. */
  duplicate?: boolean;
  /** When the frame was sent (for a held EVENT: when it was delivered). */
  sentAt: number;
  /** A held EVENT (pushed with no live connection): when it was pushed, and how long it waited. */
  heldSince?: number;
  heldMs?: number;
  bytes: number;
  outcome: DeliveryOutcome;
  ack?: AckRecord;
  error?: string;
}

/** Bounded log of deliveries, newest last. Records are updated in place when their ack arrives. */
export class DeliveryLog {
  readonly #records: DeliveryRecord[] = [];
  readonly #byMessageId = new Map<string, DeliveryRecord>();
  readonly #capacity: number;
  #seq = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(entry: Omit<DeliveryRecord, 'seq'>): DeliveryRecord {
    const record: DeliveryRecord = { seq: ++this.#seq, ...entry };
    this.#records.push(record);
    if (record.type !== 'UPSTREAM') this.#byMessageId.set(record.messageId, record);
    if (this.#records.length > this.#capacity) {
      const dropped = this.#records.splice(0, this.#records.length - this.#capacity);
      for (const old of dropped)
        if (this.#byMessageId.get(old.messageId) === old) this.#byMessageId.delete(old.messageId);
    }
    return record;
  }

  /** The record of a sent message, while it is still in the log. */
  find(messageId: string): DeliveryRecord | undefined {
    return this.#byMessageId.get(messageId);
  }

  /** Entries with `seq > since`, oldest first, at most `limit`. */
  since(since = 0, limit = this.#capacity): DeliveryRecord[] {
    const out: DeliveryRecord[] = [];
    for (const r of this.#records) {
      if (r.seq > since) out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The highest seq handed out so far. */
  get lastSeq(): number {
    return this.#seq;
  }

  get size(): number {
    return this.#records.length;
  }

  clear(): void {
    this.#records.length = 0;
    this.#byMessageId.clear();
  }
}
