import { performance } from 'node:perf_hooks';

/**
 * Keeps one noisy kind of log line from flooding the log: at most `burst` lines at once, then
 * `perSecond` lines a second (a token bucket). The lines left out are counted, and the next line
 * let through reports how many (so a flood of malformed frames costs a few lines, not millions, and
 * nothing is silently hidden).
 */
export class LogBudget {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  #suppressed = 0;

  /** `now` is a millisecond clock; performance.now() unless a test needs another. */
  constructor(burst = 20, perSecond = 1, now: () => number = () => performance.now()) {
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /**
   * Asks to log one line. Returns how many lines were left out since the last one let through
   * (0 or more) when this line may be logged, undefined when it must be left out.
   */
  take(): number | undefined {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
    this.#last = now;
    if (this.#tokens < 1) {
      this.#suppressed++;
      return undefined;
    }
    this.#tokens -= 1;
    return this.flush();
  }

  /** How many lines were left out since the last one let through; the count starts again at 0. */
  flush(): number {
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
