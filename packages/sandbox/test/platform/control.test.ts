import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SEED_APP, SEED_USERS } from '../../src/seed.js';
import { type PlatformHarness, startPlatform } from './harness.js';

let h: PlatformHarness;
beforeAll(async () => {
  h = await startPlatform();
});
afterAll(async () => {
  await h.close();
});

describe('platform control API', () => {
  test('GET /sandbox/users lists the seed users', async () => {
    const res = await h.call('/sandbox/users');
    expect(res.status).toBe(200);
    expect(
      res.body.users.map((u: { userId: string; unionId: string; name: string }) => [
        u.userId,
        u.unionId,
        u.name,
      ]),
    ).toEqual(SEED_USERS.map((u) => [u.userId, u.unionId, u.name]));
  });

  test('GET /sandbox/users/:userId/data shows each user’s seeded to-dos, events and status', async () => {
    const zhang = await h.call('/sandbox/users/zhangsan/data');
    expect(zhang.body.todos.length).toBeGreaterThanOrEqual(3);
    expect(zhang.body.events.length).toBeGreaterThanOrEqual(2);
    expect(zhang.body.statuses).toEqual([
      expect.objectContaining({ id: 'seed-status-zhangsan', ownenssType: 3 }),
    ]);
    const li = await h.call('/sandbox/users/lisi/data');
    // lisi attends zhangsan's weekly sync, so it is in lisi's calendar too.
    expect(li.body.events.map((e: { eventId: string }) => e.eventId)).toContain('seed-event-zhangsan-2');
    expect(li.body.statuses[0].ownenssType).toBe(1);
  });

  test('unknown users are 404; bad bodies are 400 naming the field', async () => {
    const unknown = await h.call('/sandbox/users/nobody/expire-token', { method: 'POST', json: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'notFound', field: 'userId' });
    const noClient = await h.call('/sandbox/users/zhangsan/revoke', { method: 'POST', json: {} });
    expect(noClient.status).toBe(400);
    expect(noClient.body).toMatchObject({ code: 'invalidParameter', field: 'clientId' });
    const noScope = await h.call('/sandbox/users/zhangsan/remove-scope', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId },
    });
    expect(noScope.body.field).toBe('scope');
    const noGrant = await h.call('/sandbox/users/zhangsan/revoke', {
      method: 'POST',
      json: { clientId: SEED_APP.clientId },
    });
    expect(noGrant.status).toBe(404);
    const badJson = await h.call('/sandbox/clock/advance', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.field).toBe('body');
    const badUri = await h.call(`/sandbox/apps/${SEED_APP.clientId}/redirect-uris`, {
      method: 'POST',
      json: { uri: 'not a uri' },
    });
    expect(badUri.status).toBe(400);
    expect(badUri.body.field).toBe('uri');
    const noApp = await h.call('/sandbox/apps/nosuchapp/redirect-uris', {
      method: 'POST',
      json: { uri: 'https://x.example/' },
    });
    expect(noApp.status).toBe(404);
  });

  test('the clock advances and reports; negative steps are refused', async () => {
    const before = (await h.call('/sandbox/clock')).body;
    const adv = await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: 3_600_000 } });
    expect(adv.status).toBe(200);
    expect(adv.body.now - before.now).toBeGreaterThanOrEqual(3_600_000);
    expect(adv.body.offsetMs).toBe(before.offsetMs + 3_600_000);
    const neg = await h.call('/sandbox/clock/advance', { method: 'POST', json: { ms: -1 } });
    expect(neg.status).toBe(400);
    expect(neg.body.field).toBe('ms');
  });

  test('apps can be registered and then used for tokens', async () => {
    const reg = await h.call('/sandbox/apps', {
      method: 'POST',
      json: {
        clientId: 'crmapp',
        clientSecret: 'crm-secret',
        name: 'CRM',
        scopes: ['Todo.Todo.Read'],
        redirectUris: ['https://crm.example/cb'],
      },
    });
    expect(reg.status).toBe(200);
    expect(reg.body.app).toMatchObject({
      clientId: 'crmapp',
      scopes: ['Todo.Todo.Read'],
      redirectUris: ['https://crm.example/cb'],
    });
    expect(JSON.stringify(reg.body)).not.toContain('crm-secret');
    const token = await h.call('/v1.0/oauth2/accessToken', {
      method: 'POST',
      json: { appKey: 'crmapp', appSecret: 'crm-secret' },
    });
    expect(token.status).toBe(200);
  });

  test('an app that does not declare a scope gets 403 even when the user granted it', async () => {
    const auth = await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: { userId: 'zhangsan', clientId: 'crmapp', scopes: ['openid', 'Todo.Todo.Read'] },
    });
    const ex = await h.call('/v1.0/oauth2/userAccessToken', {
      method: 'POST',
      json: {
        clientId: 'crmapp',
        clientSecret: 'crm-secret',
        code: auth.body.code,
        grantType: 'authorization_code',
      },
    });
    const token = ex.body.accessToken;
    expect((await h.call('/v1.0/todo/users/me/tasks/list', { method: 'POST', token, json: {} })).status).toBe(
      200,
    );
    const me = await h.call('/v1.0/contact/users/me', { token });
    expect(me.status).toBe(403);
    expect(me.body.accessdenieddetail.requiredScopes).toEqual(['Contact.User.Read']);
  });
});

describe('one control API: every part refuses the same way', () => {
  test('platform, cards and gateway answer {code, message, field?} from the one ControlError and handler', async () => {
    const { createSandbox } = await import('../../src/index.js');
    const { silentLogger } = await import('@dingtalk-skills/sdk');
    const sandbox = await createSandbox({ port: 0, logger: silentLogger() });
    const call = async (path: string, init: { method?: string; json?: unknown } = {}) => {
      const res = await fetch(`${sandbox.url}${path}`, {
        method: init.method ?? 'GET',
        ...(init.json === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.json) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      // Platform: an unknown user (404) and a bad field (400).
      expect(await call('/sandbox/users/nobody/revoke', { method: 'POST', json: { clientId: 'x' } })).toEqual(
        {
          status: 404,
          body: { code: 'notFound', message: 'unknown user nobody', field: 'userId' },
        },
      );
      const advance = await call('/sandbox/clock/advance', { method: 'POST', json: { ms: -1 } });
      expect(advance.status).toBe(400);
      expect(advance.body).toMatchObject({ code: 'invalidParameter', field: 'ms' });
      // A PlatformError (refused by the platform itself) goes through the same handler.
      const app = await call('/sandbox/apps/nope/redirect-uris', {
        method: 'POST',
        json: { uri: 'https://a.example/cb' },
      });
      expect(app.status).toBe(404);
      expect(app.body).toMatchObject({ code: 'notFound' });
      // Cards: a bad query field.
      const cards = await call('/sandbox/cards?limit=abc');
      expect(cards.status).toBe(400);
      expect(cards.body).toMatchObject({ code: 'invalidParameter', field: 'limit' });
      // Gateway: a bad body field, and an unknown control path.
      const push = await call('/sandbox/events', { method: 'POST', json: { topic: 42 } });
      expect(push.status).toBe(400);
      expect(push.body).toMatchObject({ code: 'invalidParameter' });
      expect(typeof push.body.field).toBe('string');
      expect((await call('/sandbox/nothing-here')).body).toMatchObject({ code: 'notFound' });
      // The platform's clock and apps routes are the server's: one registration each.
      expect((await call('/sandbox/clock')).body).toMatchObject({ offsetMs: 0 });
    } finally {
      await sandbox.close();
    }
  });
});
