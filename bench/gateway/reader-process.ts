/** The reader (`reader.ts`, bundled) in its own plain `node` process, driven over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { ReplyWaiters } from '../shared/reply-waiters.js';
import type { ReaderArgs, ReaderIn, ReaderOut } from './reader-ipc.js';

const EXIT_WAIT_MS = 5_000;

export class ReaderProcess {
  readonly #child: ChildProcess;
  readonly #replies = new ReplyWaiters<ReaderOut>('reader process');
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (msg: ReaderOut) => this.#replies.deliver(msg));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#replies.fail(new Error(`reader process exited (${signal ?? code})`));
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
      await proc.#replies.wait('ready', timeoutMs);
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
    const answer = this.#replies.wait(want, timeoutMs);
    this.#child.send(msg);
    return answer;
  }

  /** Waits for a message of type `want` without sending anything. */
  expect<T extends ReaderOut['type']>(want: T, timeoutMs: number): Promise<Extract<ReaderOut, { type: T }>> {
    return this.#replies.wait(want, timeoutMs);
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
}
