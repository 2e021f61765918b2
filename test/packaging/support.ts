/**
 * Helpers of the packaging tests: pack the workspace packages, create fresh npm projects outside the
 * repository, run npm/npx there with a clean environment, and run a long-lived command in its own
 * process group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../support/child-process.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user's shell: the parent's, without the `npm_*` variables that `npm test` sets
 * for the repository (they would point npm at the workspace), keeping the cache, registry and proxies.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || keep.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs a command to its end in `cwd` with a user's environment; SIGKILL after `timeoutMs` (then `code` is null). */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  return runToEnd(command, args, { ...options, env: options.env ?? userEnv() });
}

/** Fails with the command's output when it did not exit 0. */
export function ok(what: string, r: Run): Run {
  if (r.code !== 0)
    throw new Error(
      `${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`,
    );
  return r;
}

/** `npm pack` of the three publishable packages into `dest`; returns the tarballs' paths by package name. */
export async function packAll(dest: string): Promise<Record<'sdk' | 'sandbox' | 'cli', string>> {
  for (const p of ['sdk', 'sandbox', 'cli'])
    if (
      !existsSync(join(REPO, 'packages', p, 'dist', 'index.js')) &&
      !existsSync(join(REPO, 'packages', p, 'dist', 'bin.js'))
    )
      throw new Error(`packages/${p}/dist is missing: run npm run build first`);
  await mkdir(dest, { recursive: true });
  const r = ok(
    'npm pack',
    await run(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        dest,
        '-w',
        'packages/sdk',
        '-w',
        'packages/sandbox',
        '-w',
        'packages/cli',
      ],
      { cwd: REPO, timeoutMs: 120_000 },
    ),
  );
  const packed = JSON.parse(r.stdout) as { name: string; filename: string }[];
  const file = (name: string) => {
    const entry = packed.find((p) => p.name === name);
    if (!entry) throw new Error(`npm pack did not pack ${name}: ${r.stdout}`);
    return join(dest, entry.filename);
  };
  return {
    sdk: file('@dingtalk-skills/sdk'),
    sandbox: file('@dingtalk-skills/sandbox'),
    cli: file('dingtalk-skills'),
  };
}

/**
 * better-sqlite3 is a native module: without a prebuilt binary (none can be downloaded here) npm compiles
 * it, which takes minutes on a small machine. prebuild-install looks for a "local prebuild" first; this
 * makes one from the repository's own build (same Node ABI), so the install is as fast as a download.
 * Returns the npm environment variable that points at it, or {} when the repository has no build.
 */
export async function localSqlitePrebuild(dir: string): Promise<Record<string, string>> {
  const require = createRequire(join(REPO, 'package.json'));
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  } catch {
    return {};
  }
  const binary = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binary)) return {};
  const { version } = require('better-sqlite3/package.json') as { version: string };
  await mkdir(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  ok(
    'tar',
    await run('tar', ['czf', join(dir, name), '-C', pkgDir, 'build/Release/better_sqlite3.node'], {
      cwd: dir,
      timeoutMs: 60_000,
    }),
  );
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** A fresh `npm init -y` project (CommonJS, npm's default) in `dir`, with `files` written into it. */
export async function freshProject(dir: string, files: Record<string, string> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  ok('npm init -y', await run('npm', ['init', '-y'], { cwd: dir, timeoutMs: 60_000 }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** `npm install` as a user would, offline-friendly (the npm cache is warm in CI). */
export async function npmInstall(dir: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return ok(
    `npm install ${args.join(' ')}`,
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...args], {
      cwd: dir,
      env,
      timeoutMs: 600_000,
    }),
  );
}

/** A command started in its own process group (detached), its output collected. */
export interface Background {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first capture group of `pattern` in the output; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM to the whole group, SIGKILL after `timeoutMs`; resolves true when no process of the group is left. */
  stopGroup(timeoutMs: number): Promise<boolean>;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export function background(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Background {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pgid = child.pid!;
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          const m = pattern.exec(out);
          if (!m?.[1]) return;
          clearInterval(poll);
          clearTimeout(timer);
          resolve(m[1]);
        }, 100);
        void exited.then(() => {
          clearInterval(poll);
          clearTimeout(timer);
          const m = pattern.exec(out);
          if (m?.[1]) resolve(m[1]);
          else
            reject(
              new Error(
                `${command} ${args.join(' ')} exited (code ${child.exitCode}); output:\n${out.slice(-4000)}`,
              ),
            );
        });
      });
    },
    async stopGroup(timeoutMs) {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGTERM');
      const deadline = Date.now() + timeoutMs;
      while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (!groupAlive(pgid)) return true;
      process.kill(-pgid, 'SIGKILL');
      return false;
    },
  };
}
