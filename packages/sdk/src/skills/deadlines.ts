import { AsyncResource } from 'node:async_hooks';

/**
 * Deadlines of running invocations on one shared timer, instead of a `setTimeout` and a
 * `clearTimeout` per invocation.
 *
 * Why: at a steady rate each call finishes before the next arrives, so a per-invocation timer empties
 * Node's timer list for its duration on every call, and the next call builds the list again and re-arms
 * libuv's timer (issue 14: "timers per message"). Here an invocation costs one small object linked into
 * a list per timeout value (each list is in expiry order, because the clock only moves forward) and
 * unlinked when it finishes; the one timer is armed for the earliest deadline and left alone when a call
 * finishes early. When it fires it expires what is due and re-arms for the next. It holds the process
 * open only while some deadline is pending, like the timers it replaces.
 */

/** The longest timeout Node's timers keep (2^31-1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** True for a usable timeout: a whole number of ms from 1 to {@link MAX_TIMEOUT_MS}. */
export function isTimeoutMs(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TIMEOUT_MS;
}

/** A pending deadline; `cancel()` it when the invocation finishes first. */
export interface Deadline {
  cancel(): void;
}

/**
 * What expires: a callback, or an object whose `expire()` is called (an invocation in flight passes
 * itself, so arming its deadline makes no closure).
 */
export type OnExpire = (() => void) | { expire(): void };

/**
 * One deadline. It is an async resource so that `onExpire` runs in the async context (e.g. an
 * AsyncLocalStorage store) of the invocation that added it, not of whichever invocation armed the
 * shared timer. `requireManualDestroy` because the automatic destroy hook registers every resource
 * with the garbage collector, about 10 µs each; the queue emits destroy itself when the entry leaves.
 */
class Entry extends AsyncResource implements Deadline {
  prev: Entry | undefined;
  next: Entry | undefined;
  linked = true;
  /** Taken out as due and not yet run; `cancel()` before it runs (from another expiry) skips it. */
  due = false;

  constructor(
    readonly at: number,
    readonly list: DeadlineList,
    readonly onExpire: OnExpire,
    readonly queue: DeadlineQueue,
  ) {
    super('DINGTALK_SKILL_DEADLINE', { requireManualDestroy: true });
    this.prev = list.tail;
    this.next = undefined;
  }

  cancel(): void {
    if (this.due) this.due = false;
    else if (this.queue.unlink(this)) this.emitDestroy();
  }
}

/** Deadlines of one timeout value, oldest first (a doubly linked list: O(1) append and unlink). */
interface DeadlineList {
  head: Entry | undefined;
  tail: Entry | undefined;
}

/** One timer for any number of invocation deadlines. */
export class DeadlineQueue {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (the clock's time); Infinity when none is armed. */
  #timerAt = Number.POSITIVE_INFINITY;
  #pending = 0;

  /** `now`: a monotonic clock in ms (default `performance.now`). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** How many deadlines are pending. */
  get size(): number {
    return this.#pending;
  }

  /**
   * Calls `onExpire` (or its `expire()`) once `timeoutMs` have passed, unless the returned deadline is
   * cancelled first.
   */
  add(timeoutMs: number, onExpire: OnExpire): Deadline {
    // NaN, Infinity or a timeout past Node's limit would re-arm the timer every millisecond.
    if (!isTimeoutMs(timeoutMs))
      throw new RangeError(
        `a deadline is a whole number of ms from 1 to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`,
      );
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) {
      list = { head: undefined, tail: undefined };
      this.#lists.set(timeoutMs, list);
    }
    const entry = new Entry(this.#now() + timeoutMs, list, onExpire, this);
    if (list.tail) list.tail.next = entry;
    else list.head = entry;
    list.tail = entry;
    if (++this.#pending === 1) this.#timer?.ref();
    if (entry.at < this.#timerAt) this.#arm(entry.at);
    return entry;
  }

  /** Takes a deadline out of its list (cancelled or due); false when it was out already. Internal. */
  unlink(entry: Entry): boolean {
    if (!entry.linked) return false;
    entry.linked = false;
    const { list } = entry;
    if (entry.prev) entry.prev.next = entry.next;
    else list.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else list.tail = entry.prev;
    entry.prev = entry.next = undefined;
    // Nothing pending: the armed timer may fire into empty lists later, but must not keep the process up.
    if (--this.#pending === 0) this.#timer?.unref();
    return true;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(at - this.#now())));
    if (this.#pending === 0) this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    // Node's timers may run a fraction of a millisecond before the clock here reaches `at`.
    const now = this.#now() + 1;
    const due: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [timeoutMs, list] of this.#lists) {
      for (let e = list.head; e !== undefined && e.at <= now; e = list.head) {
        this.unlink(e);
        e.due = true;
        due.push(e);
      }
      if (list.head) next = Math.min(next, list.head.at);
      else this.#lists.delete(timeoutMs);
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    // Expire after re-arming; a callback that throws must not strand the others' deadlines, and its
    // error is not swallowed: it is thrown again on its own turn (an uncaught exception, as from a timer).
    // An expiry may cancel another deadline of the same batch: that one is skipped. Destroy is emitted
    // after the run, so async_hooks see before, after, then destroy.
    for (const e of due) {
      if (!e.due) {
        e.emitDestroy();
        continue;
      }
      e.due = false;
      try {
        const { onExpire } = e;
        if (typeof onExpire === 'function') e.runInAsyncScope(onExpire);
        else e.runInAsyncScope(onExpire.expire, onExpire);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      } finally {
        e.emitDestroy();
      }
    }
  };
}
