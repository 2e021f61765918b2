import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCodedError, type StoredUserToken, silentLogger, TokenCipher } from '@dingtalk-skills/sdk';
import { StateTokenStore } from '@dingtalk-skills/sdk/state';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../support/capture-logger.js';
import { ALL_KINDS, eventually, StateKit } from './state-kit.js';

const kit = new StateKit();
afterEach(() => kit.closeStores());
afterAll(() => kit.closeAll());

const ACCESS = 'ACCESSTOKEN-PLAINTEXT-7f3a9c1e5b';
const REFRESH = 'REFRESHTOKEN-PLAINTEXT-2d8e4a6c0f';

function token(n = 0): StoredUserToken {
  return {
    unionId: 'union-zhangsan',
    accessToken: `${ACCESS}${n}`,
    refreshToken: `${REFRESH}${n}`,
    expiresAt: Date.now() + 7_200_000,
    corpId: 'dingsandboxcorp',
    updatedAt: Date.now(),
  };
}

describe.each(ALL_KINDS)('StateTokenStore on %s', (kind) => {
  it('gets what was set, replaces it whole, deletes it, forgets it after its TTL', async () => {
    const b = await kit.backing(kind);
    const cipher = new TokenCipher(TokenCipher.generateKey());
    const tokens = new StateTokenStore({ store: await b.open(), cipher, logger: silentLogger() });
    expect(await tokens.get('app:union-zhangsan')).toBeUndefined();
    const first = token(1);
    await tokens.set('app:union-zhangsan', first);
    expect(await tokens.get('app:union-zhangsan')).toEqual(first);
    await tokens.set('app:union-zhangsan', { ...token(2), refreshToken: undefined });
    const replaced = await tokens.get('app:union-zhangsan');
    expect(replaced?.accessToken).toBe(`${ACCESS}2`);
    expect(replaced?.refreshToken).toBeUndefined();
    await tokens.delete('app:union-zhangsan');
    expect(await tokens.get('app:union-zhangsan')).toBeUndefined();
    await tokens.set('short', token(3), 30);
    await eventually(async () => (await tokens.get('short')) === undefined, 2_000, 'the token TTL');
  });

  it('a second instance (another connection) with the same key reads the token', async () => {
    const b = await kit.backing(kind);
    const key = TokenCipher.generateKey();
    const writer = new StateTokenStore({
      store: await b.open(),
      cipher: new TokenCipher(key),
      logger: silentLogger(),
    });
    const reader = new StateTokenStore({
      store: await b.open(),
      cipher: new TokenCipher(key),
      logger: silentLogger(),
    });
    await writer.set('u', token(4));
    expect((await reader.get('u'))?.accessToken).toBe(`${ACCESS}4`);
  });

  it('key rotation: new key first, old key kept, reads both; a rotated-out key reads as absent with a warning', async () => {
    const b = await kit.backing(kind);
    const store = await b.open();
    const oldKey = { id: 'k2025', key: TokenCipher.generateKey() };
    const newKey = { id: 'k2026', key: TokenCipher.generateKey() };
    const before = new StateTokenStore({ store, cipher: new TokenCipher(oldKey), logger: silentLogger() });
    await before.set('old-row', token(5));
    const logs = new CaptureLogger();
    const rotated = new StateTokenStore({
      store,
      cipher: new TokenCipher([newKey, oldKey]),
      logger: logs.logger,
    });
    expect((await rotated.get('old-row'))?.accessToken).toBe(`${ACCESS}5`);
    await rotated.set('new-row', token(6));
    expect(await store.get('token:new-row')).toMatch(/^v1\.k2026\./);
    expect(await store.get('token:old-row')).toMatch(/^v1\.k2025\./);
    // Rewriting an old row moves it to the new key.
    await rotated.set('old-row', (await rotated.get('old-row')) as StoredUserToken);
    expect(await store.get('token:old-row')).toMatch(/^v1\.k2026\./);
    const onlyOld = new StateTokenStore({ store, cipher: new TokenCipher(oldKey), logger: logs.logger });
    expect(await onlyOld.get('new-row')).toBeUndefined();
    expect(logs.find('cannot be opened')).toHaveLength(1);
    expect(logs.all()).not.toContain(ACCESS);
  });

  it("a sealed value copied to another user's row does not open", async () => {
    const b = await kit.backing(kind);
    const store = await b.open();
    const tokens = new StateTokenStore({
      store,
      cipher: new TokenCipher(TokenCipher.generateKey()),
      logger: silentLogger(),
    });
    await tokens.set('union-a', token(7));
    await store.set('token:union-b', (await store.get('token:union-a')) as string);
    expect(await tokens.get('union-b')).toBeUndefined();
  });
});

describe('StateTokenStore: tokens are never stored in clear text', () => {
  it('a shared store without a cipher is refused with ERR_CONFIG; memory gets a random key', async () => {
    for (const kind of ['sqlite', 'redis'] as const) {
      const store = await (await kit.backing(kind)).open();
      let err: unknown;
      try {
        new StateTokenStore({ store, logger: silentLogger() });
      } catch (e) {
        err = e;
      }
      expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
      expect((err as Error).message).toContain('DINGTALK_TOKEN_KEY');
    }
    const memory = new StateTokenStore({
      store: await (await kit.backing('memory')).open(),
      logger: silentLogger(),
    });
    await memory.set('u', token(8));
    expect((await memory.get('u'))?.accessToken).toBe(`${ACCESS}8`);
  });

  it('SQLite: the raw database files hold no token plaintext', async () => {
    const b = await kit.backing('sqlite');
    const store = await b.open();
    const tokens = new StateTokenStore({
      store,
      cipher: new TokenCipher(TokenCipher.generateKey()),
      logger: silentLogger(),
    });
    for (let i = 0; i < 20; i++) await tokens.set(`user-${i}`, token(i));
    const path = b.url.slice('sqlite:'.length);
    // Before close, the rows sit in the WAL file; after close, in the main file. Check both times.
    const files = () => readdirSync(kit.dir).filter((f) => f.startsWith(path.split('/').pop() as string));
    const scan = () => {
      const names = files();
      expect(names.length).toBeGreaterThan(0);
      let bytes = 0;
      for (const f of names) {
        const raw = readFileSync(join(kit.dir, f));
        bytes += raw.length;
        expect(raw.includes(ACCESS)).toBe(false);
        expect(raw.includes(REFRESH)).toBe(false);
        expect(raw.includes('union-zhangsan')).toBe(false);
      }
      return bytes;
    };
    expect(scan()).toBeGreaterThan(0);
    // The rows are there (the scan is not vacuous): their sealed form is found in the files.
    const sealed = (await store.get('token:user-3')) as string;
    await store.close();
    scan();
    const all = Buffer.concat(files().map((f) => readFileSync(join(kit.dir, f))));
    expect(all.includes(sealed.split('.')[4] as string)).toBe(true);
  });

  it('Redis: the raw values hold no token plaintext', async () => {
    const b = await kit.backing('redis');
    const tokens = new StateTokenStore({
      store: await b.open(),
      cipher: new TokenCipher(TokenCipher.generateKey()),
      logger: silentLogger(),
    });
    for (let i = 0; i < 5; i++) await tokens.set(`user-${i}`, token(i), 60_000);
    const raw = new Redis(await kit.redisUrl());
    try {
      const keys = await raw.keys(`${b.prefix}*`);
      expect(keys).toHaveLength(5);
      for (const k of keys) {
        const value = (await raw.get(k)) as string;
        expect(value).toMatch(/^v1\./);
        expect(value).not.toContain(ACCESS);
        expect(value).not.toContain(REFRESH);
        expect(value).not.toContain('union-zhangsan');
        const dump = (await raw.dumpBuffer(k)) as Buffer;
        expect(dump.includes(ACCESS)).toBe(false);
      }
    } finally {
      raw.disconnect();
    }
  });
});
