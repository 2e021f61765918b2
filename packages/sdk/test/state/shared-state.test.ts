import { join } from 'node:path';
import {
  createSharedState,
  InProcessRefreshLock,
  isCodedError,
  parseTokenKeys,
  StateRateLimiter,
  StateRefreshLock,
  silentLogger,
  TokenCipher,
  WindowRateLimiter,
} from '@dingtalk-skills/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { expectBackToBaseline, resourceCounts } from '../support/resources.js';
import { StateKit } from './state-kit.js';

const kit = new StateKit();
afterAll(() => kit.closeAll());

const HEX = 'ab'.repeat(32);

describe('parseTokenKeys', () => {
  it('reads `key` and `id:key` entries, in order, the first one encrypting', () => {
    const b64 = TokenCipher.generateKey();
    expect(parseTokenKeys(b64)).toEqual([b64]);
    expect(parseTokenKeys(` k2026:${b64} , k2025:${HEX} `)).toEqual([
      { id: 'k2026', key: b64 },
      { id: 'k2025', key: HEX },
    ]);
    expect(new TokenCipher(parseTokenKeys(`k2026:${b64},k2025:${HEX}`)).keyId).toBe('k2026');
  });

  it('an empty list, a bad id or a short key fails with ERR_CONFIG and shows no key material', () => {
    for (const text of ['', ' , ', 'bad id!:' + HEX, 'k1:abcd', `k1:${HEX},k1:${HEX}`]) {
      let err: unknown;
      try {
        new TokenCipher(parseTokenKeys(text));
      } catch (e) {
        err = e;
      }
      expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
      expect((err as Error).message).not.toContain(HEX);
    }
  });
});

describe('createSharedState', () => {
  it('memory: in-process lock and sliding-window limiter, tokens sealed with a random key', async () => {
    const state = await createSharedState({ url: 'memory:', logger: silentLogger(), clientId: 'app1' });
    expect(state.store.kind).toBe('memory');
    expect(state.refreshLock).toBeInstanceOf(InProcessRefreshLock);
    expect(state.rateLimiter).toBeInstanceOf(WindowRateLimiter);
    expect(await state.dedupStore.begin('evt-1', 'a', 1000)).toBe('claimed');
    expect(await state.store.get('dedup:app1:evt-1')).not.toBeNull();
    await state.close();
  });

  it('two instances on one SQLite file share tokens, claims, locks and rate budgets', async () => {
    const url = `sqlite:${join(kit.dir, 'shared.db')}`;
    const keys = `k2:${TokenCipher.generateKey()},k1:${HEX}`;
    const a = await createSharedState({ url, logger: silentLogger(), clientId: 'app1', tokenKeys: keys });
    const b = await createSharedState({ url, logger: silentLogger(), clientId: 'app1', tokenKeys: keys });
    try {
      expect(a.refreshLock).toBeInstanceOf(StateRefreshLock);
      expect(a.rateLimiter).toBeInstanceOf(StateRateLimiter);
      const tok = {
        unionId: 'union-lisi',
        accessToken: 'at-0123456789abcdef',
        refreshToken: 'rt-0123456789abcdef',
        expiresAt: Date.now() + 7_200_000,
        updatedAt: Date.now(),
      };
      await a.tokenStore.set('app1:union-lisi', tok);
      expect(await b.tokenStore.get('app1:union-lisi')).toEqual(tok);
      expect(await a.store.get('token:app1:union-lisi')).toMatch(/^v1\.k2\./);
      expect(await a.dedupStore.begin('evt-9', 'a', 60_000)).toBe('claimed');
      expect(await b.dedupStore.begin('evt-9', 'b', 60_000)).toBe('in-progress');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Redis without token keys is refused with ERR_CONFIG, and the connection is closed', async () => {
    const url = await kit.redisUrl();
    const baseline = resourceCounts();
    const err = await createSharedState({ url, logger: silentLogger(), clientId: 'app1' }).catch(
      (e: unknown) => e,
    );
    expect(isCodedError(err, 'ERR_CONFIG')).toBe(true);
    await expectBackToBaseline(baseline);
  });
});
