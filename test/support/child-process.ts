/**
 * A Node child process as the CLI tests run one (`dingtalk-skills dev`, `start`): its output collected,
 * its exit as a promise, a bounded wait for a line it prints (a URL), and a bounded stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  child: ChildProcess;
  /** Resolves when the process has ended. */
  exited: Promise<Exit>;
  /** True while the process runs. */
  alive(): boolean;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** What it printed on stdout only. */
  stdout(): string;
  /** What it printed on stderr only. */
  stderr(): string;
  /**
   * Resolves with the first capture group of `pattern` once the output matches it (checked whenever stdout
   * prints). SIGKILLs the process and rejects, naming `what`, when that takes longer than `timeoutMs` or the
   * process exits first.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number, what: string): Promise<string>;
  /** Sends SIGTERM and waits for the exit; SIGKILL after `timeoutMs`. Resolves how it ended and how long it took. */
  stop(timeoutMs: number): Promise<Exit & { ms: number }>;
}

/** The last part of a long output, for failure messages. */
const tail = (text: string) => text.slice(-3000);

/** Starts `node <args>` with stdout and stderr piped and collected. */
export function spawnNode(
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): NodeProcess {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    stdout += d;
  });
  child.stderr.on('data', (d: string) => {
    out += d;
    stderr += d;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    exited,
    alive,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput(pattern, timeoutMs, what) {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${what} printed no ${pattern} within ${timeoutMs} ms; output:\n${tail(out)}`));
        }, timeoutMs);
        const check = () => {
          const m = pattern.exec(out);
          if (!m?.[1]) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve(m[1]);
        };
        child.stdout.on('data', check);
        check();
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${what} exited early (code ${code}, signal ${signal}); output:\n${tail(out)}`));
        });
      });
    },
    async stop(timeoutMs) {
      const started = Date.now();
      if (!alive()) return { ...(await exited), ms: 0 };
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const ended = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (ended === 'timeout') {
        child.kill('SIGKILL');
        return { ...(await exited), ms: Date.now() - started };
      }
      return { ...ended, ms: Date.now() - started };
    },
  };
}

/** What a command printed and how it exited (`code` null when it was killed). */
export interface FinishedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` in `cwd` (with `env`, default the parent's) to its end, output collected; SIGKILLs it after `timeoutMs` (then `code`
 * is null). Rejects only when the command cannot be started.
 */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<FinishedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      ...(options.env ? { env: options.env } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': the output is complete only once the pipes have ended.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
