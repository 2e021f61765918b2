import { SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger, TokenCipher } from '@dingtalk-skills/sdk';
import { UserTokenManager } from '@dingtalk-skills/sdk/internal';
import { createOpenApiClient, type OpenApiClient } from '@dingtalk-skills/sdk/openapi';
import { StateRefreshLock, StateTokenStore } from '@dingtalk-skills/sdk/state';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  type SandboxPlatformHarness,
  startSandboxPlatform,
} from '../openapi/support/sandbox-platform.js';
import { SHARED_KINDS, StateKit } from './state-kit.js';

const kit = new StateKit();
let sandbox: SandboxPlatformHarness;
let openapi: OpenApiClient;

beforeAll(async () => {
  sandbox = await startSandboxPlatform();
  openapi = createOpenApiClient({
    apiBase: sandbox.url,
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    logger: silentLogger(),
    rateLimit: false,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterEach(() => kit.closeStores());
afterAll(async () => {
  await openapi.close();
  await sandbox.close();
  await kit.closeAll();
});

describe.each(SHARED_KINDS)('UserTokenManager on %s state, two instances', (kind) => {
  it('each with its own connection and lock object: an expired token is refreshed once for all callers', async () => {
    await sandbox.control('POST', '/sandbox/reset');
    const b = await kit.backing(kind);
    const key = TokenCipher.generateKey();
    const instance = async () => {
      const store = await b.open();
      return new UserTokenManager({
        openapi,
        store: new StateTokenStore({ store, cipher: new TokenCipher(key), logger: silentLogger() }),
        lock: new StateRefreshLock({ store, logger: silentLogger(), minPollMs: 5, maxPollMs: 50 }),
        logger: silentLogger(),
      });
    };
    const a = await instance();
    const c = await instance();
    await a.resolve({ authCode: await sandbox.authorize('zhangsan', ALL_SCOPES) });
    const handles = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : c).require({ unionId: 'union-zhangsan' })),
    );
    await sandbox.control('POST', '/sandbox/users/zhangsan/expire-token', {});
    const me = await Promise.all(handles.map((h) => openapi.asUser(h).contact.me()));
    expect(me.every((m) => m.unionId === 'union-zhangsan')).toBe(true);
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshToken: 1, refreshTokenFailed: 0 });
  });
});
