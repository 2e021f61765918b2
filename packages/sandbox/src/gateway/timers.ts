/**
 * Every timer the gateway starts goes through one TimerSet, so `clearAll()` on close leaves nothing
 * behind and tests can assert `size === 0`.
 */
export class TimerSet {
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  /** Runs `fn` once after `ms`. Returns undefined (and runs nothing) once the set is closed. */
  timeout(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.#closed) return undefined;
    const handle = setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  /** Runs `fn` every `ms` until cleared. */
  interval(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.#closed) return undefined;
    const handle = setInterval(fn, ms);
    this.#timers.add(handle);
    return handle;
  }

  clear(handle: NodeJS.Timeout | undefined): void {
    if (handle === undefined) return;
    clearTimeout(handle);
    this.#timers.delete(handle);
  }

  /** Clears every timer and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const handle of this.#timers) clearTimeout(handle);
    this.#timers.clear();
  }

  /** Timers currently scheduled. */
  get size(): number {
    return this.#timers.size;
  }
}
