/**
 * Helpers for the end-to-end tests: the `dingtalk-skills` CLI from `packages/cli/dist` (what `npm start`
 * runs), started the way a user starts it, as a child process.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnNode } from '../support/child-process.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI (`npm run build`; `npm test` builds it before vitest runs). */
export const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

/** Throws a clear error when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(BIN))
    throw new Error(
      `${BIN} is missing: run \`npm run build\` first (\`npm test\` builds it before running vitest)`,
    );
}

/** The environment of a child CLI: the caller's, minus anything that would change which DingTalk or store it uses. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const name of [
    'DINGTALK_STATE',
    'DINGTALK_SANDBOX_PORT',
    'DINGTALK_API_BASE',
    'DINGTALK_CLIENT_ID',
    'DINGTALK_CLIENT_SECRET',
  ])
    delete env[name];
  return { ...env, ...extra };
}

/** A running `dingtalk-skills dev` process. */
export interface DevProcess {
  /** The sandbox's base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Sends SIGTERM and resolves how the process ended and how long it took. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** The line `dev` prints once the sandbox and the app are up; group 1 is the sandbox's base URL. */
export const ASSISTANT_PAGE = /assistant page\s+(http:\/\/127\.0\.0\.1:\d+)\//;

/**
 * Starts `node packages/cli/dist/bin.js dev examples/crm --ephemeral --port 0` (the OS picks a free
 * port) and resolves once it printed `assistant page   http://127.0.0.1:<port>/`.
 */
export async function startDev(
  app = 'examples/crm',
  startTimeoutMs = 25_000,
  extraArgs: readonly string[] = [],
): Promise<DevProcess> {
  requireBuiltCli();
  const dev = spawnNode([BIN, 'dev', app, '--ephemeral', '--port', '0', ...extraArgs], {
    cwd: ROOT,
    env: childEnv(),
  });
  const url = await dev.waitForOutput(ASSISTANT_PAGE, startTimeoutMs, 'dev');
  return {
    url,
    child: dev.child,
    output: dev.output,
    stop: (timeoutMs = 10_000) => dev.stop(timeoutMs),
  };
}

/** What one CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node packages/cli/dist/bin.js <args>` to completion (killed after `timeoutMs`), in `cwd` (default
 * the repository root) with `env` added to the child's environment.
 */
export function runCli(
  args: readonly string[],
  timeoutMs = 20_000,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  requireBuiltCli();
  return new Promise((resolve, reject) => {
    const run = spawnNode([BIN, ...args], { cwd: options.cwd ?? ROOT, env: childEnv(options.env) });
    const timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(
        new Error(
          `dingtalk-skills ${args.join(' ')} ran longer than ${timeoutMs} ms:\n${run.stdout()}\n${run.stderr()}`,
        ),
      );
    }, timeoutMs);
    run.child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    run.child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: run.stdout(), stderr: run.stderr() });
    });
  });
}
