/**
 * The sandbox's clock: real time plus an offset that the control API can advance, so token expiry,
 * ticket expiry and code lifetimes can be tested without waiting. Every expiry check in the sandbox
 * reads `clock.now()`, never `Date.now()`.
 */
export class SandboxClock {
  #offsetMs = 0;
  /** Milliseconds since the epoch, as the sandbox sees it. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }
  /** Moves the sandbox's time forward (never backward). Returns the new now. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advance: expected a non-negative number of ms, got ${ms}`);
    this.#offsetMs += ms;
    return this.now();
  }
  /** How far the clock has been advanced in total. */
  get offsetMs(): number {
    return this.#offsetMs;
  }
}
