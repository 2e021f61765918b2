import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SEED_APP } from '../../src/seed.js';
import { type PlatformHarness, startPlatform, userTokens } from '../platform/harness.js';

const ALL = [
  'openid',
  'Contact.User.mobile',
  'Todo.PersonalTodo.Write',
  'Todo.Todo.Read',
  'Calendar.Event.Write',
  'Calendar.Event.Read',
  'Contact.User.Ownness.Write',
];

let h: PlatformHarness;
let zhang: string;
let li: string;
let appToken: string;
beforeAll(async () => {
  h = await startPlatform();
  zhang = (await userTokens(h, 'zhangsan', ALL)).accessToken;
  li = (await userTokens(h, 'lisi', ['openid', 'Todo.Todo.Read'])).accessToken;
  appToken = (
    await h.call('/v1.0/oauth2/accessToken', {
      method: 'POST',
      json: { appKey: SEED_APP.clientId, appSecret: SEED_APP.clientSecret },
    })
  ).body.accessToken;
});
afterAll(async () => {
  await h.close();
});

describe('envelope and headers', () => {
  test('success and error answers carry DingTalk headers', async () => {
    for (const res of [
      await h.call('/v1.0/contact/users/me', { token: zhang }),
      await h.call('/v1.0/contact/users/me'),
    ]) {
      expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
      expect(res.headers.get('x-acs-request-id')).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-/);
      expect(res.headers.get('x-acs-trace-id')).toMatch(/^[0-9a-f]{32}$/);
    }
    const err = await h.call('/v1.0/contact/users/me');
    expect(err.body.requestid).toBe(err.headers.get('x-acs-request-id'));
  });

  test('an unknown /v1.0 path is 404 InvalidAction.NotFound', async () => {
    const res = await h.call('/v1.0/nothing/here', { method: 'POST', token: zhang, json: {} });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      code: 'InvalidAction.NotFound',
      message: 'Specified api is not found, please check your url and method.',
    });
    expect((await h.call('/v1.0/contact/users/me', { method: 'DELETE', token: zhang })).status).toBe(404);
  });

  test('malformed JSON is a 400 in the envelope, after the token check', async () => {
    const noToken = await h.call('/v1.0/todo/users/me/personalTasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(noToken.body.code).toBe('AuthenticationFailed.MissingParameter');
    const bad = await h.call('/v1.0/todo/users/me/personalTasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': zhang },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('todo.taskCreate.paramError');
  });
});

describe('contact', () => {
  test('users/me returns the profile with mobile when Contact.User.mobile is granted', async () => {
    const res = await h.call('/v1.0/contact/users/me', { token: zhang });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      nick: '张三',
      mobile: '13800000001',
      stateCode: '86',
      unionId: 'union-zhangsan',
      email: 'zhangsan@sandbox.example',
      visitor: false,
    });
    expect(res.body.openId).toMatch(/^o[0-9a-f]{24}$/);
    const avatar = await fetch(res.body.avatarUrl);
    expect(avatar.headers.get('content-type')).toContain('image/svg+xml');
    expect(await avatar.text()).toContain('张');
  });

  test('without Contact.User.mobile the mobile fields are absent', async () => {
    const res = await h.call('/v1.0/contact/users/me', { token: li });
    expect(res.body.nick).toBe('李四');
    expect(res.body).not.toHaveProperty('mobile');
    expect(res.body).not.toHaveProperty('stateCode');
  });

  test('users/{unionId}: me and one’s own unionId work, another user is 403', async () => {
    expect((await h.call('/v1.0/contact/users/me', { token: zhang })).body.unionId).toBe('union-zhangsan');
    expect((await h.call('/v1.0/contact/users/union-zhangsan', { token: zhang })).body.nick).toBe('张三');
    const other = await h.call('/v1.0/contact/users/union-lisi', { token: zhang });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('Forbidden.AccessDenied');
  });

  test('an app token on a user API is 400 InvalidAuthentication', async () => {
    const res = await h.call('/v1.0/contact/users/me', { token: appToken });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidAuthentication');
    expect(res.body.message).toContain('不合法的access_token');
  });
});

describe('to-do', () => {
  const create = (token: string, body: unknown) =>
    h.call('/v1.0/todo/users/me/personalTasks', { method: 'POST', token, json: body });

  test('creates a personal to-do that then shows in the list', async () => {
    const res = await create(zhang, {
      subject: '回访客户 Call the customer',
      executorIds: ['union-zhangsan'],
      description: 'about the renewal',
      dueTime: 1_900_000_000_000,
      notifyConfigs: { dingNotify: '1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.taskId).toMatch(/^task[0-9a-f]{16}$/);
    expect(res.body.createdTime).toBeTypeOf('number');
    const list = await h.call('/v1.0/todo/users/union-zhangsan/tasks/list', {
      method: 'POST',
      token: zhang,
      json: { maxResults: 100 },
    });
    expect(list.body.todoCards.map((c: { taskId: string }) => c.taskId)).toContain(res.body.taskId);
  });

  test('bad bodies are 400 todo.taskCreate.paramError naming the field', async () => {
    const noSubject = await create(zhang, { executorIds: ['union-zhangsan'] });
    expect(noSubject.status).toBe(400);
    expect(noSubject.body.code).toBe('todo.taskCreate.paramError');
    expect(noSubject.body.message).toMatch(/^subject:/);
    const noExecutors = await create(zhang, { subject: 'x', executorIds: [] });
    expect(noExecutors.body.message).toMatch(/^executorIds:/);
    const unknownExecutor = await create(zhang, { subject: 'x', executorIds: ['union-nobody'] });
    expect(unknownExecutor.body.code).toBe('todo.taskCreate.paramError');
    const badDue = await create(zhang, {
      subject: 'x',
      executorIds: ['union-zhangsan'],
      dueTime: 'tomorrow',
    });
    expect(badDue.body.message).toMatch(/^dueTime:/);
  });

  test('an app token is 400 todo.taskCreate.tokenTypeError', async () => {
    const res = await create(appToken, { subject: 'x', executorIds: ['union-zhangsan'] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('todo.taskCreate.tokenTypeError');
  });

  test('list pages with nextToken and totalCount; isDone filters', async () => {
    const page1 = await h.call('/v1.0/todo/users/me/tasks/list', {
      method: 'POST',
      token: li,
      json: { maxResults: 1 },
    });
    expect(page1.status).toBe(200);
    expect(page1.body.totalCount).toBe(2);
    expect(page1.body.todoCards).toHaveLength(1);
    expect(page1.body.nextToken).toBeTypeOf('string');
    const page2 = await h.call('/v1.0/todo/users/me/tasks/list', {
      method: 'POST',
      token: li,
      json: { maxResults: 1, nextToken: page1.body.nextToken },
    });
    expect(page2.body.todoCards).toHaveLength(1);
    expect(page2.body.todoCards[0].taskId).not.toBe(page1.body.todoCards[0].taskId);
    expect(page2.body).not.toHaveProperty('nextToken');
    const done = await h.call('/v1.0/todo/users/me/tasks/list', {
      method: 'POST',
      token: zhang,
      json: { isDone: true },
    });
    expect(done.body.todoCards.map((c: { subject: string }) => c.subject)).toEqual([
      '提交差旅报销 Submit travel expenses',
    ]);
    const badCursor = await h.call('/v1.0/todo/users/me/tasks/list', {
      method: 'POST',
      token: li,
      json: { nextToken: 'zzz' },
    });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe('InvalidParameter');
  });

  test('a user reads only their own to-dos', async () => {
    const res = await h.call('/v1.0/todo/users/union-zhangsan/tasks/list', {
      method: 'POST',
      token: li,
      json: {},
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('Forbidden.AccessDenied');
  });
});

describe('calendar', () => {
  const path = '/v1.0/calendar/users/union-zhangsan/calendars/primary/events';

  test('creates an event and lists it within timeMin/timeMax', async () => {
    const res = await h.call(path, {
      method: 'POST',
      token: zhang,
      json: {
        summary: '签约 Contract signing',
        start: { dateTime: '2031-03-10T10:00:00+08:00', timeZone: 'Asia/Shanghai' },
        end: { dateTime: '2031-03-10T11:30:00+08:00', timeZone: 'Asia/Shanghai' },
        attendees: [{ id: 'union-lisi' }],
        location: { displayName: '杭州' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toMatch(/^evt/);
    expect(res.body.organizer).toMatchObject({ id: 'union-zhangsan', displayName: '张三', self: true });
    expect(res.body.attendees).toEqual([
      { id: 'union-lisi', displayName: '李四', responseStatus: 'needsAction', self: false },
    ]);

    const inWindow = await h.call(
      `${path}?timeMin=${encodeURIComponent('2031-03-10T00:00:00+08:00')}&timeMax=${encodeURIComponent('2031-03-11T00:00:00+08:00')}`,
      { token: zhang },
    );
    expect(inWindow.status).toBe(200);
    expect(inWindow.body.events.map((e: { id: string }) => e.id)).toEqual([res.body.id]);
    const outside = await h.call(`${path}?timeMin=${encodeURIComponent('2031-03-11T00:00:00+08:00')}`, {
      token: zhang,
    });
    expect(outside.body.events).toEqual([]);
  });

  test('maxResults and nextToken page through events', async () => {
    const first = await h.call(`${path}?maxResults=1`, { token: zhang });
    expect(first.body.events).toHaveLength(1);
    expect(first.body.nextToken).toBeTypeOf('string');
    const second = await h.call(`${path}?maxResults=1&nextToken=${first.body.nextToken}`, { token: zhang });
    expect(second.body.events[0].id).not.toBe(first.body.events[0].id);
  });

  test('all-day events and a missing end', async () => {
    const res = await h.call('/v1.0/calendar/users/me/calendars/primary/events', {
      method: 'POST',
      token: zhang,
      json: { summary: '年假 Holiday', start: { date: '2031-05-01' }, isAllDay: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.isAllDay).toBe(true);
    expect(res.body.end).toEqual({ date: '2031-05-02' });
  });

  test('bad input is 400 InvalidParameter naming the field; scopes and users are checked', async () => {
    const noSummary = await h.call(path, {
      method: 'POST',
      token: zhang,
      json: { start: { dateTime: '2031-01-01T10:00:00+08:00' } },
    });
    expect(noSummary.status).toBe(400);
    expect(noSummary.body).toMatchObject({ code: 'InvalidParameter' });
    expect(noSummary.body.message).toMatch(/^summary:/);
    const backwards = await h.call(path, {
      method: 'POST',
      token: zhang,
      json: {
        summary: 'x',
        start: { dateTime: '2031-01-01T10:00:00+08:00' },
        end: { dateTime: '2031-01-01T09:00:00+08:00' },
      },
    });
    expect(backwards.body.message).toMatch(/^end:/);
    const badTime = await h.call(`${path}?timeMin=yesterday`, { token: zhang });
    expect(badTime.body.message).toMatch(/^timeMin:/);
    const liReads = await h.call('/v1.0/calendar/users/union-lisi/calendars/primary/events', { token: li });
    expect(liReads.status).toBe(403);
    expect(liReads.body.accessdenieddetail.requiredScopes).toEqual(['Calendar.Event.Read']);
    const otherUser = await h.call('/v1.0/calendar/users/union-lisi/calendars/primary/events', {
      token: zhang,
    });
    expect(otherUser.body.code).toBe('Forbidden.AccessDenied');
  });
});

describe('personal status (ownness)', () => {
  test('PUT sets a status (answer: its id as a string), deletedFlag removes it; the control API shows them', async () => {
    const path = '/v1.0/contact/user/zhangsan/ownness';
    const put = await h.call(path, {
      method: 'PUT',
      token: zhang,
      json: {
        id: 'trip-1',
        ownenssType: 3,
        startTime: 1_900_000_000_000,
        endTime: 1_900_086_400_000,
        deletedFlag: 0,
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ result: 'trip-1' });
    // DingTalk has no read API: the statuses are on the control API only.
    const noRead = await h.call(path, { token: zhang });
    expect(noRead.status).toBe(404);
    const read = await h.call('/sandbox/users/zhangsan/data');
    expect(read.body.statuses).toContainEqual(
      expect.objectContaining({ id: 'trip-1', ownenssType: 3, startTime: 1_900_000_000_000 }),
    );
    const del = await h.call(path, {
      method: 'PUT',
      token: zhang,
      json: {
        id: 'trip-1',
        ownenssType: 3,
        startTime: 1_900_000_000_000,
        endTime: 1_900_086_400_000,
        deletedFlag: 1,
      },
    });
    expect(del.body).toEqual({ result: 'trip-1' });
    const after = await h.call('/sandbox/users/zhangsan/data');
    expect(after.body.statuses.map((s: { id: string }) => s.id)).not.toContain('trip-1');
  });

  test('bad type is 400; another user is 403; missing scope is 403 with requiredScopes', async () => {
    const bad = await h.call('/v1.0/contact/user/zhangsan/ownness', {
      method: 'PUT',
      token: zhang,
      json: { ownenssType: 2, startTime: 1, endTime: 2 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^ownenssType:/);
    const other = await h.call('/v1.0/contact/user/lisi/ownness', {
      method: 'PUT',
      token: zhang,
      json: { ownenssType: 1, startTime: 1, endTime: 2 },
    });
    expect(other.status).toBe(403);
    const noScope = await h.call('/v1.0/contact/user/lisi/ownness', {
      method: 'PUT',
      token: li,
      json: { ownenssType: 1, startTime: 1, endTime: 2 },
    });
    expect(noScope.status).toBe(403);
    expect(noScope.body.accessdenieddetail.requiredScopes).toEqual(['Contact.User.Ownness.Write']);
  });
});
