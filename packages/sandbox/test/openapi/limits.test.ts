import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type PlatformHarness, startPlatform, userTokens } from '../platform/harness.js';

let h: PlatformHarness;
let token: string;
beforeEach(async () => {
  h = await startPlatform({ qpsLimit: 3 });
  token = (await userTokens(h, 'zhangsan', ['openid', 'Todo.Todo.Read'])).accessToken;
});
afterEach(async () => {
  await h.close();
});

const me = () => h.call('/v1.0/contact/users/me', { token });

describe('QPS limit per app per API', () => {
  test('the call over the limit within one second is 403 QpsLimitForAppkeyAndApi; other APIs are counted apart', async () => {
    // Fired together: all land inside one second.
    const results = await Promise.all([me(), me(), me(), me(), me()]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 403, 403]);
    const limited = results.find((r) => r.status === 403)!;
    expect(limited.body.code).toBe('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
    const list = await h.call('/v1.0/todo/users/me/tasks/list', { method: 'POST', token, json: {} });
    expect(list.status).toBe(200);
  });

  test('the window slides: calls pass again after a second', async () => {
    await Promise.all([me(), me(), me()]);
    expect((await me()).status).toBe(403);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await me()).status).toBe(200);
  });

  test('the limit can be changed or turned off at runtime', async () => {
    expect((await h.call('/sandbox/limits/openapi', { method: 'POST', json: { qpsLimit: 0 } })).body).toEqual(
      { qpsLimit: 0 },
    );
    const results = await Promise.all(Array.from({ length: 8 }, () => me()));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const bad = await h.call('/sandbox/limits/openapi', { method: 'POST', json: { qpsLimit: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('qpsLimit');
  });
});

describe('injected OpenAPI faults', () => {
  const fault = (json: unknown) => h.call('/sandbox/faults/openapi', { method: 'POST', json });

  test('status mode fails matching calls `times` times, then calls succeed', async () => {
    await h.call('/sandbox/limits/openapi', { method: 'POST', json: { qpsLimit: 0 } });
    const set = await fault({ path: '/v1.0/contact', mode: 'status', status: 503, times: 2 });
    expect(set.body.faults).toHaveLength(1);
    const a = await me();
    expect(a.status).toBe(503);
    expect(a.body).toMatchObject({ code: 'ServiceUnavailable' });
    expect(a.body.requestid).toBe(a.headers.get('x-acs-request-id'));
    expect((await me()).status).toBe(503);
    expect((await me()).status).toBe(200);
    // Other paths were never affected.
    expect((await h.call('/v1.0/todo/users/me/tasks/list', { method: 'POST', token, json: {} })).status).toBe(
      200,
    );
  });

  test('504 answers a gateway-timeout body; a custom code is used as given', async () => {
    await fault({ path: '*', mode: 'status', status: 504, times: 1 });
    const timeout = await me();
    expect(timeout.status).toBe(504);
    expect(timeout.body.code).toBe('GatewayTimeout');
    await fault({ mode: 'status', status: 500, code: 'SystemBusy', times: 1 });
    const custom = await me();
    expect(custom.status).toBe(500);
    expect(custom.body.code).toBe('SystemBusy');
  });

  test('delay mode slows calls down, then answers normally; mode none clears', async () => {
    await fault({ path: '/v1.0/contact/users/me', mode: 'delay', delayMs: 300 });
    const started = performance.now();
    const res = await me();
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const cleared = await fault({ mode: 'none' });
    expect(cleared.body.faults).toEqual([]);
    expect((await h.call('/sandbox/faults/openapi')).body.faults).toEqual([]);
  });

  test('fault input is validated, naming the field', async () => {
    const noStatus = await fault({ mode: 'status' });
    expect(noStatus.status).toBe(400);
    expect(noStatus.body.field).toBe('status');
    const badMode = await fault({ mode: 'explode' });
    expect(badMode.status).toBe(400);
    expect(badMode.body.field).toBe('mode');
    const badStatus = await fault({ mode: 'status', status: 418 });
    expect(badStatus.body.field).toBe('status');
  });
});
