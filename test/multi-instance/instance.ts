/**
 * App instances for the multi-instance tests: `node packages/cli/dist/bin.js start <fixture app>` child
 * processes (what an operator runs), each with its ops endpoints on a free port, plus small helpers to
 * read their metrics.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type PromSample, parsePromText, sumOf } from '../../packages/sdk/test/metrics/prom-text.js';
import { BIN, ROOT, requireBuiltCli } from '../e2e/dev-process.js';

/** The fixture app every instance runs. */
export const LEDGER_APP = fileURLToPath(new URL('./fixtures/ledger-app.ts', import.meta.url));

/** How an instance ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running `dingtalk-skills start` process. */
export interface AppInstance {
  name: string;
  child: ChildProcess;
  pid: number;
  /** `http://127.0.0.1:<port>` of its ops endpoints. */
  opsUrl: string;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** Resolves when the process has ended. */
  exited: Promise<Exit>;
  /** True while the process runs. */
  alive(): boolean;
  /** Its `/metrics`, parsed. */
  metrics(): Promise<PromSample[]>;
  /** Sends SIGTERM and waits (bounded) for the exit; SIGKILL when it does not come. */
  stop(timeoutMs?: number): Promise<Exit & { ms: number }>;
}

export interface InstanceOptions {
  name: string;
  /** Extra CLI arguments after `start <app>`. */
  args?: string[];
  /** The environment besides the caller's (DINGTALK_* and LEDGER_*). */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

/** Starts one instance and resolves once it printed its ops URL (its first Stream connection is up). */
export async function startInstance(options: InstanceOptions): Promise<AppInstance> {
  requireBuiltCli();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...options.env };
  for (const name of ['DINGTALK_OPS_PORT', 'DINGTALK_SANDBOX_PORT']) delete env[name];
  const child = spawn(
    process.execPath,
    [BIN, 'start', LEDGER_APP, '--ops-port', '0', ...(options.args ?? [])],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out += d;
  });
  child.stderr?.on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const opsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance ${options.name} printed no ops URL within ${startTimeoutMs} ms:\n${out}`));
    }, startTimeoutMs);
    const check = () => {
      const m = /ops endpoints\s+(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      resolve(m[1]);
    };
    child.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`instance ${options.name} exited early (code ${code}, signal ${signal}):\n${out}`));
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name: options.name,
    child,
    pid: child.pid!,
    opsUrl,
    output: () => out,
    exited,
    alive,
    async metrics() {
      const res = await fetch(`${opsUrl}/metrics`);
      if (!res.ok) throw new Error(`${options.name} /metrics: ${res.status}`);
      return parsePromText(await res.text());
    },
    async stop(timeoutMs = 20_000) {
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

/** The sum of a counter over several instances' scrapes. */
export function sumOver(scrapes: PromSample[][], name: string, labels: Record<string, string> = {}): number {
  return scrapes.reduce((n, s) => n + sumOf(s, name, labels), 0);
}

/** Polls `check` every `everyMs` until it returns true, bounded; throws with `what` and `detail()`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  detail: () => string = () => '',
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
