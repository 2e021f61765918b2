/** A benchmarked client in its own plain `node` process (a bundle from bundle.ts), driven over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { ReplyWaiters } from '../shared/reply-waiters.js';
import type { ChildArgs, FromChild, ToChild } from './ipc.js';

const EXIT_WAIT_MS = 5_000;

export class ClientProcess {
  private readonly replies = new ReplyWaiters<FromChild>('client process');
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly log: (line: string) => void,
  ) {
    child.on('message', (msg: FromChild) => this.replies.deliver(msg));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.replies.fail(new Error(`client process exited (${signal ?? code})`));
        resolve();
      });
    });
  }

  /** Forks `entry` (a bundled child) and waits until its client has connected (`ready`). */
  static async start(
    entry: string,
    args: ChildArgs,
    timeoutMs: number,
    log: (line: string) => void,
    cpuProfDir?: string,
  ): Promise<ClientProcess> {
    const child = fork(entry, [JSON.stringify(args)], {
      execArgv: cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const proc = new ClientProcess(child, log);
    try {
      await proc.replies.wait('ready', timeoutMs);
    } catch (err) {
      await proc.kill();
      throw err;
    }
    return proc;
  }

  /** Sends `msg` and waits for the answer of type `want`. */
  async request<T extends FromChild['type']>(
    msg: ToChild,
    want: T,
    timeoutMs: number,
  ): Promise<Extract<FromChild, { type: T }>> {
    const answer = this.replies.wait(want, timeoutMs);
    this.child.send(msg);
    return answer;
  }

  /** Asks the client to stop and waits for the process to end; kills it when it does not. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) {
      try {
        await this.request({ type: 'stop' }, 'stopped', EXIT_WAIT_MS);
      } catch (err) {
        // The measurement is already taken; report it and make sure the process ends.
        this.log(`client process did not stop cleanly: ${(err as Error).message}`);
      }
    }
    await this.kill();
  }

  private async kill(): Promise<void> {
    const exited = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), EXIT_WAIT_MS).unref()),
    ]);
    if (!exited) {
      this.log(`client process ${this.child.pid} still running after ${EXIT_WAIT_MS} ms; killing it`);
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
