/**
 * The sandbox's clock: real time plus an offset that the control API can advance, so token expiry,
 * ticket expiry and code lifetimes can be tested without waiting. Every expiry check in the sandbox
 * reads `clock.now()`, never `Date.now()`; the gateway's EVENT ack deadlines and redeliveries are due at
 * clock times, so advancing the clock past them fires them at once (see `gateway/timers.ts`).
 */
export class SandboxClock {
  #offsetMs = 0;
  readonly #listeners = new Set<(now: number) => void>();

  /** Milliseconds since the epoch, as the sandbox sees it. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /**
   * Moves the sandbox's time forward (never backward) and tells every listener, synchronously, before
   * it returns (so what fell due has happened when the control API answers). Returns the new now.
   */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advance: expected a non-negative number of ms, got ${ms}`);
    this.#offsetMs += ms;
    const now = this.now();
    callEach([...this.#listeners], (listener) => listener(now));
    return now;
  }

  /** Calls `listener(now)` after every advance. Returns the function that stops it. */
  onAdvance(listener: (now: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How far the clock has been advanced in total. */
  get offsetMs(): number {
    return this.#offsetMs;
  }
}

/**
 * Calls `call` on every item, even when one throws; then throws the first error, if any (so whoever
 * started it hears of the failure and no later item is skipped because of an earlier one).
 */
export function callEach<T>(items: readonly T[], call: (item: T) => void): void {
  let first: { error: unknown } | undefined;
  for (const item of items) {
    try {
      call(item);
    } catch (error) {
      first ??= { error };
    }
  }
  if (first) throw first.error;
}
