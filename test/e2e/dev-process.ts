/**
 * Helpers for the end-to-end tests: the `dingtalk-skills` CLI from `packages/cli/dist` (what `npm start`
 * runs), started the way a user starts it, as a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  for (const name of [
    'DINGTALK_STATE',
    'DINGTALK_SANDBOX_PORT',
    'DINGTALK_API_BASE',
    'DINGTALK_CLIENT_ID',
    'DINGTALK_CLIENT_SECRET',
  ])
    delete env[name];
  return env;
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
  const child = spawn(process.execPath, [BIN, 'dev', app, '--ephemeral', '--port', '0', ...extraArgs], {
    cwd: ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out += d;
  });
  child.stderr?.on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dev did not print its URL within ${startTimeoutMs} ms; output:\n${out}`));
    }, startTimeoutMs);
    const check = () => {
      const m = /assistant page\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      resolve(m[1]);
    };
    child.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`dev exited early (code ${code}, signal ${signal}); output:\n${out}`));
    });
  });

  return {
    url,
    child,
    output: () => out,
    async stop(timeoutMs = 10_000) {
      const started = Date.now();
      if (child.exitCode !== null || child.signalCode !== null)
        return { code: child.exitCode, signal: child.signalCode, ms: 0 };
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const ended = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (ended === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        return { code: null, signal: 'SIGKILL', ms: Date.now() - started };
      }
      return { ...ended, ms: Date.now() - started };
    },
  };
}

/** What one CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node packages/cli/dist/bin.js <args>` to completion (killed after `timeoutMs`). */
export function runCli(args: readonly string[], timeoutMs = 20_000): Promise<CliRun> {
  requireBuiltCli();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`dingtalk-skills ${args.join(' ')} ran longer than ${timeoutMs} ms:\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
