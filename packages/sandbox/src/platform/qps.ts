import { performance } from 'node:perf_hooks';

const WINDOW_MS = 1000;

/**
 * Per app per API call limit over a sliding one-second window. Measured on real (monotonic) time,
 * not the sandbox clock, because it limits real load. A limit of 0 turns it off.
 */
export class QpsLimiter {
  #limit: number;
  readonly #windows = new Map<string, number[]>();

  constructor(limit = 0) {
    this.#limit = QpsLimiter.#check(limit);
  }

  static #check(limit: number): number {
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`qpsLimit: expected a non-negative integer, got ${limit}`);
    return limit;
  }

  /** Calls allowed per app per API per second (0 = unlimited). */
  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    this.#limit = QpsLimiter.#check(value);
    this.#windows.clear();
  }

  /** Records one call for (app, api). False when the call is over the limit (and is not recorded). */
  tryAcquire(clientId: string, api: string): boolean {
    if (this.#limit === 0) return true;
    const key = `${clientId} ${api}`;
    const now = performance.now();
    let window = this.#windows.get(key);
    if (!window) {
      if (this.#windows.size > 10_000) this.#sweep(now);
      window = [];
      this.#windows.set(key, window);
    }
    while (window.length > 0 && now - window[0]! >= WINDOW_MS) window.shift();
    if (window.length >= this.#limit) return false;
    window.push(now);
    return true;
  }

  /** Forgets all recorded calls. */
  clear(): void {
    this.#windows.clear();
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows)
      if (window.length === 0 || now - window[window.length - 1]! >= WINDOW_MS) this.#windows.delete(key);
  }
}
