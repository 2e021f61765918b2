import { callEach, type SandboxClock } from '../clock.js';

/** A timer of a {@link TimerSet}; pass it back to `clear`. */
export interface TimerHandle {
  /** The Node timer currently armed for it. */
  node: NodeJS.Timeout;
  /** Clock timers: the sandbox clock time it is due at (re-armed when the clock advances). */
  dueAt: number | undefined;
  fn: () => void;
}

/**
 * Every timer the gateway starts goes through one TimerSet, so `close()` leaves nothing behind and
 * tests can assert `size === 0`.
 *
 * Two kinds: plain timers run on real time (pings, connection lifetime, callback deadlines, injected
 * delays); clock timers (`clockTimeout`) are due at a sandbox clock time, so `clock.advance()` past it
 * fires them at once, and a partial advance brings them nearer. EVENT ack deadlines and the
 * redelivery schedule use clock timers: advance the clock by 10 s and the next redelivery goes out.
 * A timer started by one that fires during an advance counts from the new now, so one big advance
 * moves a redelivery schedule on by one step, not to its end.
 */
export class TimerSet {
  readonly #timers = new Set<TimerHandle>();
  readonly #clock: SandboxClock | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(clock?: SandboxClock) {
    this.#clock = clock;
    this.#unsubscribe = clock?.onAdvance((now) => this.#advanced(now));
  }

  /** Runs `fn` once after `ms` of real time. Returns undefined (and runs nothing) once closed. */
  timeout(ms: number, fn: () => void): TimerHandle | undefined {
    return this.#arm(ms, fn, undefined);
  }

  /**
   * Runs `fn` once the sandbox clock reaches now + `ms`: after `ms` of real time, or sooner when the
   * clock is advanced. Without a clock it is a plain timeout.
   */
  clockTimeout(ms: number, fn: () => void): TimerHandle | undefined {
    return this.#arm(ms, fn, this.#clock === undefined ? undefined : this.#clock.now() + ms);
  }

  /** Runs `fn` every `ms` of real time until cleared. */
  interval(ms: number, fn: () => void): TimerHandle | undefined {
    if (this.#closed) return undefined;
    const timer: TimerHandle = { node: setInterval(fn, ms), dueAt: undefined, fn };
    this.#timers.add(timer);
    return timer;
  }

  clear(timer: TimerHandle | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer.node);
    this.#timers.delete(timer);
  }

  /** Clears every timer and refuses new ones. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    for (const timer of this.#timers) clearTimeout(timer.node);
    this.#timers.clear();
  }

  /** Timers currently scheduled. */
  get size(): number {
    return this.#timers.size;
  }

  #arm(ms: number, fn: () => void, dueAt: number | undefined): TimerHandle | undefined {
    if (this.#closed) return undefined;
    const timer: TimerHandle = { node: undefined as unknown as NodeJS.Timeout, dueAt, fn };
    timer.node = setTimeout(() => this.#fire(timer), ms);
    this.#timers.add(timer);
    return timer;
  }

  #fire(timer: TimerHandle): void {
    if (!this.#timers.delete(timer)) return;
    timer.fn();
  }

  /** The clock moved: fire clock timers now due (earliest first), re-arm the others for what is left. */
  #advanced(now: number): void {
    const due: TimerHandle[] = [];
    for (const timer of this.#timers) {
      if (timer.dueAt === undefined) continue;
      clearTimeout(timer.node);
      if (timer.dueAt <= now) due.push(timer);
      else timer.node = setTimeout(() => this.#fire(timer), timer.dueAt - now);
    }
    due.sort((a, b) => a.dueAt! - b.dueAt!);
    // Every due timer fires even if one throws; the first error then reaches whoever advanced.
    callEach(due, (timer) => this.#fire(timer));
  }
}
