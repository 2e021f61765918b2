import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryTokenStore,
  SqliteTokenStore,
  type StoredUserToken,
  silentLogger,
  TokenCipher,
  type TokenStore,
} from '@dingtalk-skills/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../openapi/support/log-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'dtk-token-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = Date.now();

function token(n: number): StoredUserToken {
  return {
    unionId: `union-${n}`,
    accessToken: `a${String(n).padStart(31, '0')}`,
    refreshToken: `r${String(n).padStart(31, '0')}`,
    expiresAt: BASE + 7_200_000,
    corpId: 'dingsandboxcorp',
    updatedAt: BASE,
  };
}

const stores: Array<[string, () => TokenStore & { close?: () => void }]> = [
  ['memory', () => new MemoryTokenStore({ logger: silentLogger() })],
  [
    'sqlite',
    () =>
      new SqliteTokenStore({
        path: join(dir, `s-${Math.random().toString(36).slice(2)}.db`),
        cipher: new TokenCipher(TokenCipher.generateKey()),
        logger: silentLogger(),
      }),
  ],
];

describe.each(stores)('%s token store', (_name, make) => {
  it('gets what was set, replaces it whole, deletes it', async () => {
    const store = make();
    expect(await store.get('k1')).toBeUndefined();
    await store.set('k1', token(1));
    expect(await store.get('k1')).toEqual(token(1));
    const rotated = { ...token(1), accessToken: token(2).accessToken, refreshToken: token(2).refreshToken };
    await store.set('k1', rotated);
    expect(await store.get('k1')).toMatchObject({
      accessToken: token(2).accessToken,
      refreshToken: token(2).refreshToken,
    });
    await store.delete('k1');
    expect(await store.get('k1')).toBeUndefined();
    store.close?.();
  });

  it('forgets a value after its ttl and keeps one within it', async () => {
    const store = make();
    await store.set('gone', token(3), 0);
    await store.set('kept', token(4), 60_000);
    expect(await store.get('gone')).toBeUndefined();
    expect(await store.get('kept')).toMatchObject({ unionId: 'union-4' });
    store.close?.();
  });

  it('keeps a value without refresh token (the field stays absent)', async () => {
    const store = make();
    const { refreshToken: _drop, ...noRefresh } = token(5);
    await store.set('k', noRefresh);
    const got = await store.get('k');
    expect(got?.refreshToken).toBeUndefined();
    expect(got?.accessToken).toBe(noRefresh.accessToken);
    store.close?.();
  });
});

describe('MemoryTokenStore', () => {
  it('says once, at info, that it is for one process / development', () => {
    const logs = captureLogs('info');
    new MemoryTokenStore({ logger: logs.logger });
    const lines = logs.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, store: 'memory' });
    expect(String(lines[0]?.msg)).toMatch(/one process only.*development/);
  });
});

describe('SqliteTokenStore', () => {
  it('keeps tokens encrypted at rest: the file bytes (db and WAL) hold no token', async () => {
    const path = join(dir, 'at-rest.db');
    const store = new SqliteTokenStore({
      path,
      cipher: new TokenCipher(TokenCipher.generateKey()),
      logger: silentLogger(),
    });
    const secrets: string[] = [];
    for (let i = 10; i < 60; i++) {
      const t = token(i);
      secrets.push(t.accessToken, t.refreshToken as string);
      await store.set(`app:union-${i}`, t);
    }
    const files = readdirSync(dir).filter((f) => f.startsWith('at-rest.db'));
    expect(files).toContain('at-rest.db-wal'); // WAL journal in use
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    expect(bytes.length).toBeGreaterThan(4096);
    expect(bytes.includes('union-42')).toBe(true); // the key is there, in clear: the check can see text
    for (const s of secrets) expect(bytes.includes(s)).toBe(false);
    store.close();
    const checkpointed = readFileSync(path);
    for (const s of secrets) expect(checkpointed.includes(s)).toBe(false);
  });

  it('survives reopening; a rotated key still opens old rows; a wrong key reads as absent with a warning', async () => {
    const path = join(dir, 'reopen.db');
    const oldKey = TokenCipher.generateKey();
    const first = new SqliteTokenStore({ path, cipher: new TokenCipher(oldKey), logger: silentLogger() });
    await first.set('app:union-7', token(7));
    first.close();

    const newKey = TokenCipher.generateKey();
    const rotated = new SqliteTokenStore({
      path,
      cipher: new TokenCipher([newKey, oldKey]),
      logger: silentLogger(),
    });
    expect(await rotated.get('app:union-7')).toMatchObject({ accessToken: token(7).accessToken });
    rotated.close();

    const logs = captureLogs('info');
    const wrong = new SqliteTokenStore({ path, cipher: new TokenCipher(newKey), logger: logs.logger });
    expect(await wrong.get('app:union-7')).toBeUndefined();
    const warn = logs.lines().find((l) => l.level === 40);
    expect(warn).toMatchObject({ key: 'app:union-7' });
    expect(String(warn?.error)).toMatch(/not among the configured keys/);
    wrong.close();
  });

  it('sweeps expired rows', async () => {
    const store = new SqliteTokenStore({
      path: ':memory:',
      cipher: new TokenCipher(TokenCipher.generateKey()),
      logger: silentLogger(),
    });
    await store.set('a', token(1), 0);
    await store.set('b', token(2), 0);
    await store.set('c', token(3), 60_000);
    expect(store.sweepExpired()).toBe(2);
    expect(await store.get('c')).toBeDefined();
    store.close();
  });
});
