/**
 * App instances for the multi-instance tests: `node packages/cli/dist/bin.js start <fixture app>` child
 * processes (what an operator runs), each with its ops endpoints on a free port, plus small helpers to
 * read their metrics.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type PromSample, parsePromText, sumOf } from '../../packages/sdk/test/metrics/prom-text.js';
import { BIN, ROOT, requireBuiltCli } from '../e2e/dev-process.js';
import { type Exit, spawnNode } from '../support/child-process.js';

/** The fixture app every instance runs. */
export const LEDGER_APP = fileURLToPath(new URL('./fixtures/ledger-app.ts', import.meta.url));

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
  /** The app to start (default {@link LEDGER_APP}). */
  app?: string;
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
  const instance = spawnNode(
    [BIN, 'start', options.app ?? LEDGER_APP, '--ops-port', '0', ...(options.args ?? [])],
    {
      cwd: ROOT,
      env,
    },
  );
  const opsUrl = await instance.waitForOutput(
    /ops endpoints\s+(http:\/\/127\.0\.0\.1:\d+)\/metrics/,
    options.startTimeoutMs ?? 30_000,
    `instance ${options.name}`,
  );
  return {
    name: options.name,
    child: instance.child,
    pid: instance.child.pid!,
    opsUrl,
    output: instance.output,
    exited: instance.exited,
    alive: instance.alive,
    async metrics() {
      const res = await fetch(`${opsUrl}/metrics`);
      if (!res.ok) throw new Error(`${options.name} /metrics: ${res.status}`);
      return parsePromText(await res.text());
    },
    stop: (timeoutMs = 20_000) => instance.stop(timeoutMs),
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
