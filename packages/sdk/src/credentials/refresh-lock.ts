/**
 * Mutual exclusion around "read the stored token, refresh it, store the new one" for one user.
 * The in-process lock serves one process; a lease on Redis can implement the same interface so that
 * only one instance of a fleet spends a (single-use, rotating) refresh token.
 */
export interface RefreshLock {
  /** Runs `fn` while holding the lock for `key`; others wait for their turn. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** A per-key FIFO mutex within this process. Holds nothing for keys no one is waiting on. */
export class InProcessRefreshLock implements RefreshLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a holder or waiters (for tests and metrics). */
  get activeKeys(): number {
    return this.#tails.size;
  }
}
