import type { StreamEvent } from '../protocol/event.js';
import type { StreamConnection } from './connection.js';
import type { EventClaim } from './event-dedup.js';
import type {
  CallbackMessage,
  CallbackRegistration,
  StreamEventHandler,
  StreamHandlerContext,
} from './handlers.js';
import type { JobList } from './job-list.js';

/** Waiting for a free handler slot (the client is at maxInFlight). */
export const QUEUED = 0;
/** Admitted: its handler runs (or its dedup claim is pending). */
export const RUNNING = 1;
/** Decided, the ack waits for the dedup store to release or complete the key. */
export const ANSWERING = 2;
/** Acked, or dropped unacked because the client stopped. */
export const DONE = 3;

export type JobState = typeof QUEUED | typeof RUNNING | typeof ANSWERING | typeof DONE;

/**
 * What every message keeps from receipt to ack: its ack goes back on `conn`, the socket it came in on;
 * `deadline` is checked by the dispatcher's sweep (no timer per message).
 */
abstract class JobBase implements StreamHandlerContext {
  state: JobState = QUEUED;
  #abort: AbortController | undefined = undefined;
  #abortReason: Error | undefined = undefined;
  /** `performance.now()` at receipt; set only when an observer measures latency. */
  receivedAt = 0;
  /** The handler was called (so a timeout leaves it running, abandoned). */
  invoked = false;
  /** Links of the dispatcher's {@link JobList} (owned by it). */
  prev: Job | undefined = undefined;
  next: Job | undefined = undefined;
  listed = false;

  constructor(
    readonly conn: StreamConnection,
    readonly messageId: string,
    readonly deadline: number,
  ) {}

  /** The handler's abort signal, made on first use (most handlers never ask). */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#abortReason !== undefined) this.#abort.abort(this.#abortReason);
    }
    return this.#abort.signal;
  }

  /** Aborts the handler's signal (now, or as soon as it is asked for). */
  abandon(reason: Error): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#abort?.abort(reason);
  }
}

/** An EVENT: deduplicated on its event id, acked SUCCESS or LATER. */
export class EventJob extends JobBase {
  readonly kind = 'event';
  /** This delivery's dedup lease, while it must still be settled (done or released). */
  claim: EventClaim | undefined = undefined;

  constructor(
    conn: StreamConnection,
    messageId: string,
    deadline: number,
    readonly event: StreamEvent,
    readonly handler: StreamEventHandler,
  ) {
    super(conn, messageId, deadline);
  }
}

/** A CALLBACK: answered with its handler's result (or 500, or its onTimeout response). */
export class CallbackJob extends JobBase {
  readonly kind = 'callback';

  constructor(
    conn: StreamConnection,
    messageId: string,
    deadline: number,
    readonly message: CallbackMessage,
    readonly registration: CallbackRegistration,
  ) {
    super(conn, messageId, deadline);
  }
}

/** One EVENT or CALLBACK from receipt to ack. */
export type Job = EventJob | CallbackJob;

/**
 * What a handler sees of its job: only the signal. One small object per invocation keeps the job's
 * bookkeeping out of user code's reach.
 */
export class JobContext implements StreamHandlerContext {
  constructor(private readonly job: Job) {}
  get signal(): AbortSignal {
    return this.job.signal;
  }
}

/** True for a promise or any other thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
