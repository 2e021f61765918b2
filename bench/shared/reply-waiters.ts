/**
 * The parent's side of a forked bench process's IPC (the stream and skills clients, the gateway reader):
 * promises waiting for the child's next message of a given type, each with a timeout. A `failed` message
 * from the child, or `fail()` (its exit), rejects every waiter, and every later wait.
 */

/** What every child sends when something went wrong on its side. */
interface Failed {
  type: 'failed';
  error: string;
}

interface Waiter<M> {
  type: string;
  resolve: (m: M) => void;
  reject: (e: Error) => void;
}

export class ReplyWaiters<M extends { type: string }> {
  readonly #waiters: Waiter<M>[] = [];
  #failure: Error | undefined;

  /** `label` names the process in errors (`client process`, `reader process`). */
  constructor(private readonly label: string) {}

  /** Resolves with the next message of type `want`; rejects after `timeoutMs` or when the process fails. */
  wait<T extends M['type']>(want: T, timeoutMs: number): Promise<Extract<M, { type: T }>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<M> = {
        type: want,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<M, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`${this.label}: no "${want}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Hands a message from the child to the oldest waiter for its type (none waiting: dropped). */
  deliver(msg: M): void {
    if (isFailed(msg)) {
      this.fail(new Error(`${this.label} failed: ${msg.error}`));
      return;
    }
    const i = this.#waiters.findIndex((w) => w.type === msg.type);
    if (i !== -1) this.#waiters.splice(i, 1)[0]!.resolve(msg);
  }

  /** Rejects every waiter with `err` (the first failure sticks for later waits). */
  fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}

function isFailed(msg: { type: string }): msg is Failed {
  return msg.type === 'failed';
}
