import { performance } from 'node:perf_hooks';

const WINDOW_MS = 1000;

/** What the card QPS meter has seen since the last reset. */
export interface CardQpsStats {
  /** The card QPS limit per app (all card APIs together); 0 = off. */
  limitQps: number;
  /** Card calls that arrived (with a valid app token). */
  calls: number;
  /** Answered 403 `QpsLimitForAppkeyAndApi`. */
  qpsRejected: number;
  /** Most calls that arrived within any one second (sliding), accepted or not, over all apps. */
  maxArrivalQps: number;
  /** Most calls accepted within any one second (sliding), over all apps. */
  maxAcceptedQps: number;
}

/** A sliding one-second count of timestamps. */
class SlidingSecond {
  readonly #times: number[] = [];
  #head = 0;
  /** Adds a call at `now` and returns how many fall within the last second. */
  add(now: number): number {
    this.#drop(now);
    this.#times.push(now);
    return this.#times.length - this.#head;
  }
  count(now: number): number {
    this.#drop(now);
    return this.#times.length - this.#head;
  }
  #drop(now: number): void {
    while (this.#head < this.#times.length && now - this.#times[this.#head]! >= WINDOW_MS) this.#head++;
    if (this.#head > 1024) {
      this.#times.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * The card API's QPS limit (per app, all card APIs together, sliding second on real time) and a
 * meter of the call rate the sandbox saw (for tests and the `bots` bench).
 */
export class CardQps {
  #limit = 0;
  #perApp = new Map<string, SlidingSecond>();
  #arrivals = new SlidingSecond();
  #accepted = new SlidingSecond();
  #stats: CardQpsStats = { limitQps: 0, calls: 0, qpsRejected: 0, maxArrivalQps: 0, maxAcceptedQps: 0 };

  get limit(): number {
    return this.#limit;
  }

  set limit(qps: number) {
    if (!Number.isInteger(qps) || qps < 0)
      throw new RangeError(`card qps limit: expected an integer >= 0, got ${qps}`);
    this.#limit = qps;
    this.#perApp.clear();
  }

  /** Counts one call of `clientId`; false when it is over the limit (answer 403). */
  tryAcquire(clientId: string): boolean {
    const now = performance.now();
    this.#stats.calls += 1;
    this.#stats.maxArrivalQps = Math.max(this.#stats.maxArrivalQps, this.#arrivals.add(now));
    if (this.#limit > 0) {
      let window = this.#perApp.get(clientId);
      if (!window) {
        if (this.#perApp.size > 1000) this.#perApp.clear();
        window = new SlidingSecond();
        this.#perApp.set(clientId, window);
      }
      if (window.count(now) >= this.#limit) {
        this.#stats.qpsRejected += 1;
        return false;
      }
      window.add(now);
    }
    this.#stats.maxAcceptedQps = Math.max(this.#stats.maxAcceptedQps, this.#accepted.add(now));
    return true;
  }

  stats(): CardQpsStats {
    return { ...this.#stats, limitQps: this.#limit };
  }

  /** Zeroes the counters (the limit stays). */
  resetStats(): void {
    this.#stats = { limitQps: this.#limit, calls: 0, qpsRejected: 0, maxArrivalQps: 0, maxAcceptedQps: 0 };
    this.#arrivals = new SlidingSecond();
    this.#accepted = new SlidingSecond();
  }
}
