import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED_APP } from '@dingtalk-skills/sandbox';
import {
  AuthorizationRequiredError,
  createOpenApiClient,
  IdentityMismatchError,
  InProcessRefreshLock,
  MemoryStateStore,
  type OpenApiClient,
  OpenApiError,
  SqliteStateStore,
  StateTokenStore,
  silentLogger,
  TokenCipher,
  type TokenStore,
  toAuthorizationRequired,
  UserTokenManager,
} from '@dingtalk-skills/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLogs, type LogCapture } from '../openapi/support/log-capture.js';
import {
  ALL_SCOPES,
  type SandboxPlatformHarness,
  startSandboxPlatform,
} from '../openapi/support/sandbox-platform.js';
import { caught } from '../support/caught.js';

let sandbox: SandboxPlatformHarness;
let openapi: OpenApiClient;
let logs: LogCapture;
const dir = mkdtempSync(join(tmpdir(), 'dtk-credentials-'));
const secretsSeen = new Set<string>([SEED_APP.clientSecret]);

/** A token store on a memory state store (what an app runs on by default), with its row count. */
function memoryTokenStore(): TokenStore & { readonly size: number } {
  const state = new MemoryStateStore({ logger: silentLogger() });
  const tokens = new StateTokenStore({ store: state, logger: silentLogger() });
  return {
    get: (key) => tokens.get(key),
    set: (key, value, ttlMs) => tokens.set(key, value, ttlMs),
    delete: (key) => tokens.delete(key),
    get size() {
      return state.size;
    },
  };
}

/** A token store on a SQLite file (what `DINGTALK_STATE=sqlite:<path>` runs). */
function sqliteTokenStore(path: string, cipher: TokenCipher): TokenStore & { close(): Promise<void> } {
  const state = new SqliteStateStore({ path, logger: silentLogger() });
  const tokens = new StateTokenStore({ store: state, cipher, logger: silentLogger() });
  return {
    get: (key) => tokens.get(key),
    set: (key, value, ttlMs) => tokens.set(key, value, ttlMs),
    delete: (key) => tokens.delete(key),
    close: () => state.close(),
  };
}

function manager(store: TokenStore = memoryTokenStore()) {
  return { store, tokens: new UserTokenManager({ openapi, store, logger: logs.logger }) };
}

async function consent(userId = 'zhangsan', scopes = ALL_SCOPES): Promise<string> {
  const code = await sandbox.authorize(userId, scopes);
  secretsSeen.add(code);
  return code;
}

beforeAll(async () => {
  sandbox = await startSandboxPlatform();
  logs = captureLogs('trace');
  openapi = createOpenApiClient({
    apiBase: sandbox.url,
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    logger: logs.logger,
    rateLimit: false,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
});

beforeEach(async () => {
  await sandbox.control('POST', '/sandbox/reset');
});

afterAll(async () => {
  await openapi.close();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('UserTokenManager.resolve', () => {
  it('exchanges an auth code, learns the unionId from contact.me, stores it, and serves it next time', async () => {
    const { store, tokens } = manager();
    const handle = await tokens.resolve({ authCode: await consent() });
    expect(handle).toMatchObject({
      origin: 'authCode',
      unionId: 'union-zhangsan',
      persisted: true,
      canRefresh: true,
    });
    const token = await handle?.getToken();
    secretsSeen.add(token as string);
    expect(await store.get(tokens.keyFor('union-zhangsan'))).toMatchObject({
      unionId: 'union-zhangsan',
      accessToken: token,
      corpId: 'dingsandboxcorp',
    });

    const again = await tokens.resolve({ unionId: 'union-zhangsan' });
    expect(again).toMatchObject({ origin: 'stored', unionId: 'union-zhangsan' });
    expect(await again?.getToken()).toBe(token);
    const me = await openapi.asUser(again as NonNullable<typeof again>).contact.me();
    expect(me.unionId).toBe('union-zhangsan');
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ authorizationCode: 1, refreshToken: 0 });
  });

  it("a given unionId is checked against the token's owner (contact.me) before the token is filed", async () => {
    const { store, tokens } = manager();
    sandbox.resetCounts();
    const handle = await tokens.resolve({ authCode: await consent('lisi'), unionId: 'union-lisi' });
    expect(handle?.persisted).toBe(true);
    expect(sandbox.requests('GET /v1.0/contact/users/me')).toBe(1);
    expect(await store.get(tokens.keyFor('union-lisi'))).toBeDefined();
  });

  it("another user's code presented for zhangsan: refused (IdentityMismatchError, the card's code), nothing filed, a security event logged", async () => {
    const { store, tokens } = manager();
    const mark = logs.lines().length;
    const lisiCode = await consent('lisi');
    const err = await caught(tokens.resolve({ authCode: lisiCode, unionId: 'union-zhangsan' }));
    expect(err).toBeInstanceOf(IdentityMismatchError);
    expect(err).toMatchObject({ code: 'ERR_AUTHORIZATION_REQUIRED', authCode: 'InvalidAuthentication' });
    expect((store as ReturnType<typeof memoryTokenStore>).size).toBe(0);
    const lines = logs.lines().slice(mark);
    const event = lines.find((e) => e.event === 'security.identity_mismatch');
    expect(event).toMatchObject({ via: 'authCode', asserted: 'union-zhangsan', owner: 'union-lisi' });
    expect(JSON.stringify(lines)).not.toContain(lisiCode);
  });

  it('without Contact.User.Read the unionId stays unknown: the token serves this invocation only', async () => {
    const { store, tokens } = manager();
    const handle = await tokens.resolve({ authCode: await consent('lisi', ['Todo.PersonalTodo.Write']) });
    expect(handle).toMatchObject({ origin: 'authCode', unionId: undefined, persisted: false });
    expect((store as ReturnType<typeof memoryTokenStore>).size).toBe(0);
    // Still usable for what was granted.
    const todo = await openapi
      .asUser(handle as NonNullable<typeof handle>)
      .todo.create({ subject: 'x', executorIds: ['union-lisi'] });
    expect(todo.taskId).toEqual(expect.any(String));
  });

  it('a direct accessToken is used as is and cannot be refreshed', async () => {
    const { tokens } = manager();
    const grant = await openapi.oauth.exchangeCode(await consent());
    secretsSeen.add(grant.accessToken);
    const handle = await tokens.resolve({ accessToken: grant.accessToken, unionId: 'union-zhangsan' });
    expect(handle).toMatchObject({ origin: 'direct', canRefresh: false, persisted: false });
    expect((await openapi.asUser(handle as NonNullable<typeof handle>).contact.me()).nick).toBe('张三');
    await sandbox.control('POST', '/sandbox/users/zhangsan/expire-token', {});
    const err = await caught(openapi.asUser(handle as NonNullable<typeof handle>).contact.me());
    expect(err).toBeInstanceOf(OpenApiError);
    expect(toAuthorizationRequired(err)).toMatchObject({ authCode: 'InvalidAuthentication' });
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshToken: 0 });
  });

  it('nothing to go on: resolve gives undefined, require throws the InvalidAuthentication card', async () => {
    const { tokens } = manager();
    expect(await tokens.resolve({})).toBeUndefined();
    expect(await tokens.resolve({ unionId: 'union-nobody' })).toBeUndefined();
    const err = await caught(tokens.require({ unionId: 'union-nobody' }));
    expect(err).toBeInstanceOf(AuthorizationRequiredError);
    expect((err as AuthorizationRequiredError).toAuthFailure('r1')).toEqual({
      success: false,
      code: 'InvalidAuthentication',
      requestId: 'r1',
    });
  });

  it('a used auth code (a replayed invocation) falls back to the stored token', async () => {
    const { tokens } = manager();
    const code = await consent();
    await tokens.resolve({ authCode: code });
    const replay = await tokens.resolve({ authCode: code, unionId: 'union-zhangsan' });
    expect(replay).toMatchObject({ origin: 'stored', unionId: 'union-zhangsan' });
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ authorizationCode: 1 });
  });
});

describe('refresh', () => {
  it('100 concurrent callers with an expired stored token: exactly one refresh, all succeed', async () => {
    const { store, tokens } = manager();
    await tokens.resolve({ authCode: await consent() });
    const key = tokens.keyFor('union-zhangsan');
    const stored = await store.get(key);
    // The stored token's expiry has passed (as after a long pause); the platform's clock moves too.
    await store.set(key, { ...(stored as NonNullable<typeof stored>), expiresAt: Date.now() - 1 });
    await sandbox.control('POST', '/sandbox/clock/advance', { ms: 7_200_000 });

    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const handle = await tokens.require({ unionId: 'union-zhangsan' });
        return (await openapi.asUser(handle).contact.me()).unionId;
      }),
    );
    expect(results.every((u) => u === 'union-zhangsan')).toBe(true);
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshToken: 1, refreshTokenFailed: 0 });
    const after = await store.get(key);
    secretsSeen.add(after?.accessToken as string);
    // Rotation: a new pair, stored; the old refresh token is spent at the platform.
    expect(after?.accessToken).not.toBe(stored?.accessToken);
    expect(after?.refreshToken).not.toBe(stored?.refreshToken);
    expect(after?.expiresAt).toBeGreaterThan(Date.now());
    const spent = await caught(openapi.oauth.refresh(stored?.refreshToken as string));
    expect(spent).toMatchObject({ apiCode: 'invalidParameter.refreshToken.notFound' });
  });

  it('100 concurrent calls rejected with InvalidAuthentication mid-flight: one refresh, each call retried once', async () => {
    const { tokens } = manager();
    await tokens.resolve({ authCode: await consent() });
    const handles = await Promise.all(
      Array.from({ length: 100 }, () => tokens.require({ unionId: 'union-zhangsan' })),
    );
    // The platform expires the token; the client still believes it valid.
    await sandbox.control('POST', '/sandbox/users/zhangsan/expire-token', {});
    sandbox.resetCounts();
    const results = await Promise.all(handles.map((h) => openapi.asUser(h).todo.list('me')));
    expect(results).toHaveLength(100);
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshToken: 1, refreshTokenFailed: 0 });
    // Each call: one rejected attempt, one retry with the new token.
    expect(sandbox.requests('POST /v1.0/todo/users/union-zhangsan/tasks/list')).toBe(200);
  });

  it('two managers (two processes) sharing a store and a RefreshLock spend the refresh token once', async () => {
    const store = memoryTokenStore();
    const lock = new InProcessRefreshLock(); // stands in for a shared (e.g. Redis) lease
    const a = new UserTokenManager({ openapi, store, lock, logger: logs.logger });
    const b = new UserTokenManager({ openapi, store, lock, logger: logs.logger });
    await a.resolve({ authCode: await consent() });
    const handles = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).require({ unionId: 'union-zhangsan' })),
    );
    await sandbox.control('POST', '/sandbox/users/zhangsan/expire-token', {});
    await Promise.all(handles.map((h) => openapi.asUser(h).contact.me()));
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshToken: 1, refreshTokenFailed: 0 });
  });

  it('a missing scope gets one refresh-and-retry; when the grant still lacks it, PermissionDenied surfaces with its scopes', async () => {
    const { tokens } = manager();
    const handle = await tokens.require({ authCode: await consent() });
    await sandbox.control('POST', '/sandbox/users/zhangsan/remove-scope', {
      clientId: SEED_APP.clientId,
      scope: 'Todo.PersonalTodo.Write',
    });
    const err = await caught(openapi.asUser(handle).todo.create({ subject: 'x' }));
    expect(toAuthorizationRequired(err)).toMatchObject({
      authCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requiredScopes: ['Todo.PersonalTodo.Write'],
    });
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshToken: 1, refreshTokenFailed: 0 });
    expect(sandbox.requests('POST /v1.0/todo/users/me/personalTasks')).toBe(2);
  });

  it('a missing scope whose refresh fails (token endpoint 503): the 403 and its scopes stand, logged at warn', async () => {
    const { tokens } = manager();
    const handle = await tokens.require({ authCode: await consent() });
    await sandbox.control('POST', '/sandbox/users/zhangsan/remove-scope', {
      clientId: SEED_APP.clientId,
      scope: 'Todo.PersonalTodo.Write',
    });
    await sandbox.control('POST', '/sandbox/faults/openapi', {
      path: '/v1.0/oauth2/userAccessToken',
      mode: 'status',
      status: 503,
    });
    try {
      const err = await caught(openapi.asUser(handle).todo.create({ subject: 'x' }));
      expect(toAuthorizationRequired(err)).toMatchObject({
        authCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        requiredScopes: ['Todo.PersonalTodo.Write'],
      });
      const warned = logs
        .lines()
        .filter((l) => String(l.msg).startsWith('refresh after a missing-scope 403'));
      expect(warned).toMatchObject([{ level: 40, unionId: 'union-zhangsan' }]);
    } finally {
      await sandbox.control('POST', '/sandbox/faults/openapi', { path: '*', mode: 'none' });
    }
  });

  it('a dead refresh token: the stored token is deleted and the call fails with the InvalidAuthentication card', async () => {
    const { store, tokens } = manager();
    const handle = await tokens.require({ authCode: await consent() });
    // The user revokes the app's access; the platform refuses the refresh token from now on.
    await sandbox.control('POST', '/sandbox/users/zhangsan/revoke', { clientId: SEED_APP.clientId });
    await sandbox.control('POST', '/sandbox/users/zhangsan/expire-token', {});
    const err = await caught(openapi.asUser(handle).contact.me());
    expect(err).toBeInstanceOf(AuthorizationRequiredError);
    expect(err).toMatchObject({ code: 'ERR_AUTHORIZATION_REQUIRED', authCode: 'InvalidAuthentication' });
    expect((err as Error).cause).toMatchObject({ apiCode: 'invalidParameter.refreshToken.notFound' });
    expect(await store.get(tokens.keyFor('union-zhangsan'))).toBeUndefined();
    expect(await tokens.resolve({ unionId: 'union-zhangsan' })).toBeUndefined();
    expect(await sandbox.tokenStats('zhangsan')).toMatchObject({ refreshTokenFailed: 1 });
  });

  it('an expired stored token whose refresh fails makes resolve answer undefined (ask the user again)', async () => {
    const { store, tokens } = manager();
    await tokens.resolve({ authCode: await consent() });
    const key = tokens.keyFor('union-zhangsan');
    const stored = await store.get(key);
    await store.set(key, {
      ...(stored as NonNullable<typeof stored>),
      refreshToken: 'f'.repeat(32),
      expiresAt: Date.now() - 1,
    });
    expect(await tokens.resolve({ unionId: 'union-zhangsan' })).toBeUndefined();
    expect(await store.get(key)).toBeUndefined();
  });
});

describe('with the SQLite store', () => {
  it('keeps real tokens across managers, refreshes and rotates them, and never writes them in clear', async () => {
    const path = join(dir, 'tokens.db');
    const cipher = new TokenCipher(TokenCipher.generateKey());
    const store = sqliteTokenStore(path, cipher);
    const first = manager(store).tokens;
    const handle = await first.require({ authCode: await consent('lisi') });
    const original = await handle.getToken();
    const originalRt = (await store.get(first.keyFor('union-lisi')))?.refreshToken as string;

    // A second manager (as after a restart) on the same file; the token has expired meanwhile.
    const second = manager(sqliteTokenStore(path, cipher)).tokens;
    await sandbox.control('POST', '/sandbox/users/lisi/expire-token', {});
    const again = await second.require({ unionId: 'union-lisi' });
    expect(await again.getToken()).toBe(original);
    expect((await openapi.asUser(again).contact.me()).unionId).toBe('union-lisi');
    const rotated = await store.get(first.keyFor('union-lisi'));
    expect(rotated?.accessToken).not.toBe(original);
    expect(rotated?.refreshToken).not.toBe(originalRt);

    const clear = [original, originalRt, rotated?.accessToken as string, rotated?.refreshToken as string];
    for (const s of clear) secretsSeen.add(s);
    const files = readdirSync(dir).filter((f) => f.startsWith('tokens.db'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes('union-lisi')).toBe(true);
    for (const s of clear) expect(bytes.includes(s)).toBe(false);
    await store.close();
  });
});

describe('logging', () => {
  it('never writes a token, code or the client secret', () => {
    const text = logs.text();
    expect(text).toContain('user token refreshed');
    for (const s of secretsSeen) expect(text.includes(s)).toBe(false);
  });
});
