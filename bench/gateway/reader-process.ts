/** The reader (`reader.ts`, bundled) in its own plain `node` process, driven over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import type { ReaderArgs, ReaderIn, ReaderOut } from './reader-ipc.js';

const EXIT_WAIT_MS = 5_000;

type Waiter = { type: ReaderOut['type']; resolve: (m: ReaderOut) => void; reject: (e: Error) => void };

export class ReaderProcess {
  readonly #child: ChildProcess;
  readonly #waiters: Waiter[] = [];
  readonly #exited: Promise<void>;
  #failure: Error | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (msg: ReaderOut) => this.#onMessage(msg));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#failAll(new Error(`reader process exited (${signal ?? code})`));
        resolve();
      });
    });
  }

  /** Forks the bundled reader and waits until it has connected. */
  static async start(entry: string, args: ReaderArgs, timeoutMs: number): Promise<ReaderProcess> {
    const child = fork(entry, [JSON.stringify(args)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const proc = new ReaderProcess(child);
    try {
      await proc.#wait('ready', timeoutMs);
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  /** Sends `msg` and waits for the answer of type `want`. */
  request<T extends ReaderOut['type']>(
    msg: ReaderIn,
    want: T,
    timeoutMs: number,
  ): Promise<Extract<ReaderOut, { type: T }>> {
    const answer = this.#wait(want, timeoutMs);
    this.#child.send(msg);
    return answer;
  }

  /** Waits for a message of type `want` without sending anything. */
  expect<T extends ReaderOut['type']>(want: T, timeoutMs: number): Promise<Extract<ReaderOut, { type: T }>> {
    return this.#wait(want, timeoutMs);
  }

  /** Asks the reader to close its socket and exit; kills it when it does not. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.connected) {
      try {
        await this.request({ type: 'stop' }, 'stopped', EXIT_WAIT_MS);
      } catch {
        // It did not stop in time (or already failed): the kill below ends it either way.
      }
    }
    const exited = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), EXIT_WAIT_MS).unref()),
    ]);
    if (!exited) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }

  #wait<T extends ReaderOut['type']>(want: T, timeoutMs: number): Promise<Extract<ReaderOut, { type: T }>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        type: want,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<ReaderOut, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`reader process: no "${want}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #onMessage(msg: ReaderOut): void {
    if (msg.type === 'failed') {
      this.#failAll(new Error(`reader process failed: ${msg.error}`));
      return;
    }
    const i = this.#waiters.findIndex((w) => w.type === msg.type);
    if (i !== -1) this.#waiters.splice(i, 1)[0]!.resolve(msg);
  }

  #failAll(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}
