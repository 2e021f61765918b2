import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { SandboxClock } from '../../src/clock.js';
import { MIGRATIONS } from '../../src/platform/db/schema.js';
import { createPlatform } from '../../src/platform/index.js';
import { SEED_APP } from '../../src/seed.js';
import { startPlatform, userTokens } from './harness.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dts-platform-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const count = (file: string, table: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('SQLite persistence', () => {
  test('a grant, a to-do and a live token survive closing and reopening the same file', async () => {
    const dbPath = join(tempDir(), 'platform.sqlite');
    const first = await startPlatform({ dbPath });
    const t = await userTokens(first, 'zhangsan', ['openid', 'Todo.PersonalTodo.Write', 'Todo.Todo.Read']);
    const created = await first.call('/v1.0/todo/users/me/personalTasks', {
      method: 'POST',
      token: t.accessToken,
      json: { subject: '持久化 Persisted to-do', executorIds: ['union-zhangsan'] },
    });
    expect(created.status).toBe(200);
    await first.close();

    const second = await startPlatform({ dbPath });
    try {
      const grants = await second.call('/sandbox/grants?userId=zhangsan');
      expect(grants.body.grants).toHaveLength(1);
      expect(grants.body.grants[0].scopes).toContain('Todo.PersonalTodo.Write');
      const list = await second.call('/v1.0/todo/users/me/tasks/list', {
        method: 'POST',
        token: t.accessToken,
        json: { maxResults: 100 },
      });
      expect(list.status).toBe(200);
      expect(list.body.todoCards.map((c: { taskId: string }) => c.taskId)).toContain(created.body.taskId);
      // The refresh token persisted too, and rotation still holds across the restart.
      const refreshed = await second.call('/v1.0/oauth2/userAccessToken', {
        method: 'POST',
        json: {
          clientId: SEED_APP.clientId,
          clientSecret: SEED_APP.clientSecret,
          refreshToken: t.refreshToken,
          grantType: 'refresh_token',
        },
      });
      expect(refreshed.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  test('tokens and codes are stored as sha256 hashes, never in clear', async () => {
    const dbPath = join(tempDir(), 'platform.sqlite');
    const h = await startPlatform({ dbPath });
    const t = await userTokens(h, 'zhangsan', ['openid']);
    await h.close();
    const db = new Database(dbPath, { readonly: true });
    try {
      const dump = JSON.stringify([
        db.prepare('SELECT * FROM user_tokens').all(),
        db.prepare('SELECT * FROM auth_codes').all(),
      ]);
      expect(dump).not.toContain(t.accessToken);
      expect(dump).not.toContain(t.refreshToken);
      expect(dump).not.toContain(t.code);
      expect(dump).toMatch(/[0-9a-f]{64}/);
    } finally {
      db.close();
    }
  });

  test('seeding is idempotent: reopening adds no rows; the schema version is recorded', () => {
    const dbPath = join(tempDir(), 'platform.sqlite');
    const clock = new SandboxClock();
    createPlatform({ dbPath, clock }).close();
    const tables = ['apps', 'users', 'todos', 'events', 'ownness', 'app_redirect_uris'];
    const before = tables.map((t) => count(dbPath, t));
    expect(before.every((n) => n > 0)).toBe(true);
    createPlatform({ dbPath, clock }).close();
    createPlatform({ dbPath, clock: new SandboxClock() }).close();
    expect(tables.map((t) => count(dbPath, t))).toEqual(before);
    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  test('a database of schema version 1 is migrated: refresh tokens then keep their paired access token', async () => {
    const dbPath = join(tempDir(), 'v1.db');
    const old = new Database(dbPath);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.close();
    const h = await startPlatform({ dbPath });
    try {
      const first = await userTokens(h, 'zhangsan', ['openid']);
      const again = await h.call('/v1.0/oauth2/userAccessToken', {
        method: 'POST',
        json: {
          clientId: SEED_APP.clientId,
          clientSecret: SEED_APP.clientSecret,
          refreshToken: first.refreshToken,
          grantType: 'refresh_token',
        },
      });
      expect(again.body.accessToken).toBe(first.accessToken);
    } finally {
      await h.close();
    }
    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
  });

  test('ephemeral mode writes no file', async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const h = await startPlatform({ ephemeral: true });
      expect(h.platform.dbPath).toBeUndefined();
      const t = await userTokens(h, 'zhangsan', ['openid', 'Todo.PersonalTodo.Write']);
      await h.call('/v1.0/todo/users/me/personalTasks', {
        method: 'POST',
        token: t.accessToken,
        json: { subject: 'x', executorIds: ['union-zhangsan'] },
      });
      await h.close();
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  test('ephemeral and dbPath together are refused', () => {
    expect(() =>
      createPlatform({ ephemeral: true, dbPath: '/tmp/x.sqlite', clock: new SandboxClock() }),
    ).toThrow(/ephemeral and dbPath/);
  });
});

describe('reset', () => {
  test('puts data back to the seed and keeps configured extra redirect URIs', async () => {
    const extra = 'http://127.0.0.1:8720/assistant/oauth-callback';
    const h = await startPlatform({ seedAppRedirectUris: [extra] });
    try {
      const t = await userTokens(h, 'lisi', ['openid', 'Todo.PersonalTodo.Write', 'Todo.Todo.Read']);
      await h.call('/v1.0/todo/users/me/personalTasks', {
        method: 'POST',
        token: t.accessToken,
        json: { subject: 'temp', executorIds: ['union-lisi'] },
      });
      await h.call(`/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, {
        method: 'POST',
        json: { uri: 'https://added.example/cb' },
      });
      await h.call('/sandbox/faults/openapi', { method: 'POST', json: { mode: 'status', status: 500 } });

      const reset = await h.call('/sandbox/reset', { method: 'POST' });
      expect(reset.body.reset).toBe(true);
      expect((await h.call('/sandbox/grants')).body.grants).toEqual([]);
      expect((await h.call('/sandbox/faults/openapi')).body.faults).toEqual([]);
      expect((await h.call('/sandbox/stats/tokens')).body.byAppUser).toEqual([]);
      const app = (await h.call(`/sandbox/apps/${SEED_APP.clientId}`)).body.app;
      expect(app.redirectUris).toEqual([...SEED_APP.redirectUris, extra]);
      const data = await h.call('/sandbox/users/lisi/data');
      expect(data.body.todos).toHaveLength(2);
      // The old token is gone with the reset.
      expect((await h.call('/v1.0/contact/users/me', { token: t.accessToken })).body.code).toBe(
        'InvalidAuthentication',
      );
    } finally {
      await h.close();
    }
  });
});
