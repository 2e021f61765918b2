import type { EventEmitter } from 'node:events';

/** A promise with its resolve/reject exposed (to hold a handler open until a test releases it). */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects with `what` in the message when `promise` does not settle within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the arguments of the first `event` on `emitter` that passes `filter`, bounded. */
export function nextEvent<A extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  timeoutMs: number,
  filter: (...args: A) => boolean = () => true,
): Promise<A> {
  let listener: ((...args: unknown[]) => void) | undefined;
  const p = new Promise<A>((resolve) => {
    listener = (...args: unknown[]) => {
      if (filter(...(args as A))) resolve(args as A);
    };
    emitter.on(event, listener);
  });
  return within(p, timeoutMs, `event '${event}'`).finally(() => {
    if (listener) emitter.off(event, listener);
  });
}

/**
 * Polls `check` on every turn of the event loop (setImmediate, no timers) until it returns true, bounded.
 * For conditions nothing emits an event for (e.g. the count of active handles).
 */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Waits a fixed time. Only for observing that something does NOT happen, or counting what happens,
 * over a window (e.g. connection attempts in 3 s); never to wait for something that emits an event.
 */
export function observeFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
