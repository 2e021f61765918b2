/**
 * Secrets and access: the whole flow (consent page, headless consent, refresh, skill-triggered card,
 * legacy plugin with the user's token, a token in a Graph body, a hand refresh, an app token, a
 * revoke) runs through `dingtalk-skills dev` at LOG_LEVEL=trace, once with its state in SQLite
 * and once in Redis. Then:
 *  - every line it printed is scanned for the client secret, the token key, every access token,
 *    refresh token, app token and auth code: the ones the flow saw, the ones the app stored (decrypted
 *    here with the key), and every 32-hex string whose sha256 is a token or code the sandbox issued
 *    (the sandbox keeps hashes of all of them, so none escapes the check);
 *  - the raw state store (the SQLite file with its -wal/-shm, every Redis key and value) and the
 *    sandbox's own SQLite file are read byte for byte: no token or code in clear text.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../../packages/sdk/test/support/redis-server.js';
import {
  CLIENT_SECRET,
  hex32,
  issuedHashes,
  runWholeFlow,
  type SeenSecrets,
  sha256,
  startTracedDev,
  storedTokens,
  TOKEN_KEY,
} from './support/traced-dev.js';

const TOKEN_PREFIX = 'dingtalk-skills:token:';

interface Run {
  /** The log (stderr). */
  lines: string[];
  /** The banner (stdout). */
  stdout: string[];
  seen: SeenSecrets;
  stored: { accessToken: string; refreshToken?: string | undefined }[];
  sandboxDb: string;
  /** Every plaintext secret known to the test. */
  plaintext: string[];
}

/** Runs the flow against a dev process whose state is `state`; `tokenKeys` lists the stored token keys afterwards. */
async function runFlow(dir: string, state: string, tokenKeys: () => Promise<string[]>): Promise<Run> {
  const sandboxDb = join(dir, 'sandbox.sqlite');
  const dev = await startTracedDev(sandboxDb, state);
  let seen: SeenSecrets;
  try {
    seen = await runWholeFlow(dev.url);
  } finally {
    const exit = await dev.stop();
    expect(exit.code, dev.logLines().slice(-20).join('\n')).toBe(0);
  }
  const stored = await storedTokens(state, await tokenKeys());
  const plaintext = [
    CLIENT_SECRET,
    TOKEN_KEY,
    ...seen.authCodes,
    ...seen.accessTokens,
    ...seen.refreshTokens,
    ...seen.appTokens,
    ...stored.flatMap((t) => [t.accessToken, ...(t.refreshToken ? [t.refreshToken] : [])]),
  ];
  return { lines: dev.logLines(), stdout: dev.stdoutLines(), seen, stored, sandboxDb, plaintext };
}

function expectLogsClean(run: Run): void {
  // The run logged a lot, debug lines included (the most detailed level the code writes; trace lets
  // everything through), and did everything the flow asks.
  expect(run.lines.length).toBeGreaterThan(60);
  const levels = new Set(
    run.lines.map((l) => (JSON.parse(l.startsWith('{') ? l : '{}') as { level?: number }).level),
  );
  expect(levels).toContain(20);
  expect(run.lines.some((l) => l.includes('user token stored'))).toBe(true);
  expect(run.seen.authCodes.length).toBeGreaterThanOrEqual(2);
  expect(run.stored.length).toBeGreaterThanOrEqual(1);

  const all = run.lines.join('\n');
  for (const secret of run.plaintext)
    expect(all.includes(secret), `a secret (${secret.slice(0, 4)}...) in the log`).toBe(false);
  // Every token and code the sandbox issued, found by hash: none may appear.
  const issued = issuedHashes(run.sandboxDb);
  expect(issued.size).toBeGreaterThan(8);
  const candidates = hex32(all);
  // The scan has something to look at: message ids and trace ids have the same shape as tokens.
  expect(candidates.length).toBeGreaterThan(0);
  const leaked = candidates.filter((h) => issued.has(sha256(h)));
  expect(leaked).toEqual([]);
  // connections/open tickets never appear in a URL in the log.
  expect(all).not.toMatch(/ticket=[0-9a-f]{8}-[0-9a-f]{4}/i);
  // stdout is the banner for the user. `dev` shows the sandbox seed app's published credentials there
  // (docs/guide.md, "Sandbox seed") in exactly one line; no other secret, and no token or code, ever.
  const banner = run.stdout.join('\n');
  expect(run.stdout.filter((l) => l.includes(CLIENT_SECRET))).toEqual([
    `  app credentials  clientId dingsandboxapp001  clientSecret ${CLIENT_SECRET}`,
  ]);
  for (const secret of run.plaintext.filter((s) => s !== CLIENT_SECRET))
    expect(banner.includes(secret)).toBe(false);
  expect(hex32(banner).filter((h) => issued.has(sha256(h)))).toEqual([]);
}

/** Asserts that none of `secrets` occurs in `bytes` (read as UTF-8 and as Latin-1). */
function expectNoneIn(bytes: Buffer, secrets: string[], where: string): void {
  const utf8 = bytes.toString('utf8');
  const latin1 = bytes.toString('latin1');
  for (const secret of secrets) {
    if (secret === CLIENT_SECRET || secret === TOKEN_KEY) continue;
    expect(
      utf8.includes(secret) || latin1.includes(secret),
      `a token or code in clear text in ${where}`,
    ).toBe(false);
  }
}

describe('state in SQLite', () => {
  let dir: string;
  let run: Run;
  const statePath = () => join(dir, 'state.sqlite');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dtk-sec-sqlite-'));
    run = await runFlow(dir, `sqlite:${statePath()}`, async () => {
      const db = new Database(statePath(), { readonly: true });
      try {
        const rows = db
          .prepare('SELECT key FROM dingtalk_state WHERE key LIKE ?')
          .all(`${TOKEN_PREFIX}%`) as { key: string }[];
        return rows.map((r) => r.key.slice(TOKEN_PREFIX.length));
      } finally {
        db.close();
      }
    });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('LOG_LEVEL=trace: no client secret, token key, access or refresh token, app token or auth code in any log line', () => {
    expectLogsClean(run);
  });

  it('the raw SQLite files (state store and sandbox) hold no token or code in clear text', () => {
    const files = [statePath(), `${statePath()}-wal`, `${statePath()}-shm`].filter((f) => existsSync(f));
    const state = Buffer.concat(files.map((f) => readFileSync(f)));
    // The scan reads the right bytes: the token rows are there (their keys are not secret).
    expect(state.toString('latin1')).toContain(TOKEN_PREFIX);
    expectNoneIn(state, run.plaintext, 'the state store');
    const sandboxFiles = [run.sandboxDb, `${run.sandboxDb}-wal`].filter((f) => existsSync(f));
    const sandbox = Buffer.concat(sandboxFiles.map((f) => readFileSync(f)));
    // The sandbox keeps sha256 hashes: the hash of a token it issued is in the file, the token is not.
    expect(sandbox.toString('latin1')).toContain(sha256(run.seen.accessTokens[0]!));
    expectNoneIn(sandbox, run.plaintext, "the sandbox's database");
  });
});

describe('state in Redis', () => {
  let dir: string;
  let redis: RedisServerHandle;
  let run: Run;
  let dump: { key: string; value: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dtk-sec-redis-'));
    redis = await startRedisServer();
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      run = await runFlow(dir, redis.url, async () => {
        const keys = await client.keys(`${TOKEN_PREFIX}*`);
        return keys.map((k) => k.slice(TOKEN_PREFIX.length));
      });
      // Every key and its raw value, whatever its type (DUMP is the serialized value as Redis keeps it).
      dump = [];
      for (const key of await client.keys('*')) {
        const raw = await client.dumpBuffer(key);
        dump.push({ key, value: raw ? raw.toString('latin1') : '' });
      }
    } finally {
      client.disconnect();
    }
  }, 120_000);

  afterAll(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('LOG_LEVEL=trace: no client secret, token key, access or refresh token, app token or auth code in any log line', () => {
    expectLogsClean(run);
  });

  it('no Redis key or value holds a token or code in clear text', () => {
    expect(dump.some((d) => d.key.startsWith(TOKEN_PREFIX))).toBe(true);
    expectNoneIn(
      Buffer.from(dump.map((d) => `${d.key}\n${d.value}`).join('\n'), 'latin1'),
      run.plaintext,
      'Redis',
    );
    expectNoneIn(readFileSync(run.sandboxDb), run.plaintext, "the sandbox's database");
  });
});
