/**
 * A supervisor may send SIGTERM the moment a long-running command announces it is ready. The ready line
 * must therefore come after the graceful-stop handler is installed: CI once saw `start` killed outright
 * (exit signal SIGTERM, no drain) when the signal landed between its ready line and `onShutdown`.
 *
 * Real parts: the built CLI as child processes, a real sandbox, a preload (`node --import`) that notes
 * the SIGTERM listener count before every stdout write, so the ordering is checked without a race.
 */
import { fileURLToPath } from 'node:url';
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../support/child-process.js';
import { BIN, ROOT, requireBuiltCli } from './dev-process.js';

const PROBE = fileURLToPath(new URL('./fixtures/ready-line-probe.mjs', import.meta.url));
const LISTENERS = /\[probe\] SIGTERM listeners before this stdout chunk: (\d+)\n/g;

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ ephemeral: true, logger: silentLogger(), pingIntervalMs: 0 });
});
afterAll(async () => {
  await sandbox?.close();
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  for (const name of ['DINGTALK_STATE', 'DINGTALK_SANDBOX_PORT', 'DINGTALK_OPS_PORT']) delete e[name];
  return e;
}

const commands: { name: string; args: string[]; ready: RegExp; env: () => NodeJS.ProcessEnv }[] = [
  {
    name: 'start',
    args: ['start', 'examples/crm', '--ops-port', '0'],
    ready: /ops endpoints\s+(http:\/\/127\.0\.0\.1:\d+)/,
    env: () =>
      env({
        DINGTALK_CLIENT_ID: SEED_APP.clientId,
        DINGTALK_CLIENT_SECRET: SEED_APP.clientSecret,
        DINGTALK_API_BASE: sandbox.url,
        DINGTALK_STATE: 'memory',
      }),
  },
  {
    name: 'dev',
    args: ['dev', 'examples/crm', '--ephemeral', '--port', '0'],
    ready: /assistant page\s+(http:\/\/127\.0\.0\.1:\d+)/,
    env: () => env(),
  },
  {
    name: 'sandbox',
    args: ['sandbox', '--ephemeral', '--port', '0'],
    ready: /base URL\s+(http:\/\/127\.0\.0\.1:\d+)/,
    env: () => env(),
  },
];

describe('long-running commands stop gracefully on a SIGTERM sent at their ready line', () => {
  for (const command of commands) {
    it(`${command.name}: the stop handler is installed before the ready line; SIGTERM then exits 0`, async () => {
      requireBuiltCli();
      const child = spawnNode(['--import', PROBE, BIN, ...command.args], { cwd: ROOT, env: command.env() });
      try {
        await child.waitForOutput(command.ready, 30_000, `${command.name}'s ready line`);
      } catch (err) {
        child.child.kill('SIGKILL');
        throw err;
      }
      // Every stdout chunk up to and including the ready line was written with a handler in place.
      const counts = [...child.stderr().matchAll(LISTENERS)].map((m) => Number(m[1]));
      expect(counts.length, child.output()).toBeGreaterThan(0);
      expect(counts.at(-1), `listeners when the ready line was written:\n${child.output()}`).toBeGreaterThan(
        0,
      );
      const exit = await child.stop(30_000);
      expect(exit, child.output().slice(-2000)).toMatchObject({ code: 0, signal: null });
    }, 60_000);
  }
});
