import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { SEED_APP } from '../../../src/seed.js';
import {
  type JsonResponse,
  type PlatformHarness,
  startPlatform,
  userTokens,
} from '../../platform/harness.js';
import * as M from './models.js';

/**
 * One contract test per emulated OpenAPI: the sandbox's answer, read over real HTTP, decodes with a
 * strict schema of DingTalk's published model (./models.ts, written from the reference). A field
 * DingTalk does not send, or a field of the wrong JSON type, fails the decode.
 */

let h: PlatformHarness;
let zhang: string;

/** Decodes a 200 answer with the model; on failure the issues name the field. */
function decode<S extends z.ZodType>(schema: S, res: JsonResponse): z.output<S> {
  expect(res.status, res.text).toBe(200);
  const parsed = schema.safeParse(res.body);
  if (!parsed.success)
    throw new Error(
      `answer does not match the published model: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}\n${res.text}`,
    );
  return parsed.data;
}

const ALL = [
  'openid',
  'Contact.User.mobile',
  'Todo.PersonalTodo.Write',
  'Todo.Todo.Read',
  'Calendar.Event.Write',
  'Calendar.Event.Read',
  'Contact.User.Ownness.Write',
];

beforeAll(async () => {
  h = await startPlatform();
  zhang = (await userTokens(h, 'zhangsan', ALL)).accessToken;
});
afterAll(async () => {
  await h.close();
});

describe('oauth2', () => {
  test('userAccessToken (code grant and refresh grant) answers GetUserTokenResponseBody', async () => {
    const auth = await h.call('/sandbox/oauth/authorize', {
      method: 'POST',
      json: { userId: 'lisi', clientId: SEED_APP.clientId, scopes: ['openid', 'corpid'] },
    });
    const byCode = decode(
      M.UserTokenAnswer,
      await h.call('/v1.0/oauth2/userAccessToken', {
        method: 'POST',
        json: {
          clientId: SEED_APP.clientId,
          clientSecret: SEED_APP.clientSecret,
          code: auth.body.code,
          grantType: 'authorization_code',
        },
      }),
    );
    decode(
      M.UserTokenAnswer,
      await h.call('/v1.0/oauth2/userAccessToken', {
        method: 'POST',
        json: {
          clientId: SEED_APP.clientId,
          clientSecret: SEED_APP.clientSecret,
          refreshToken: byCode.refreshToken,
          grantType: 'refresh_token',
        },
      }),
    );
  });

  test('accessToken answers GetAccessTokenResponseBody; legacy gettoken its errcode shape', async () => {
    decode(
      M.AppTokenAnswer,
      await h.call('/v1.0/oauth2/accessToken', {
        method: 'POST',
        json: { appKey: SEED_APP.clientId, appSecret: SEED_APP.clientSecret },
      }),
    );
    const legacy = decode(
      M.LegacyTokenAnswer,
      await h.call(
        `/gettoken?appkey=${SEED_APP.clientId}&appsecret=${encodeURIComponent(SEED_APP.clientSecret)}`,
      ),
    );
    expect(legacy.errcode).toBe(0);
  });

  test('authRules/user answers GetPersonalAuthRuleResponseBody', async () => {
    const rules = decode(M.AuthRules, await h.call('/v1.0/oauth2/authRules/user', { token: zhang }));
    expect(rules.result[0]?.authItems).toContain('Todo.PersonalTodo.Write');
  });
});

describe('contact', () => {
  test('users/me answers GetUserResponseBody, loginEmail included; mobile and stateCode are strings', async () => {
    const me = decode(M.ContactUser, await h.call('/v1.0/contact/users/me', { token: zhang }));
    expect(me.unionId).toBe('union-zhangsan');
    expect(me.mobile).toEqual(expect.any(String));
    expect(me.stateCode).toEqual(expect.any(String));
    decode(M.ContactUser, await h.call('/v1.0/contact/users/union-zhangsan', { token: zhang }));
  });

  test('ownness answers {result: string} for a set and for a delete', async () => {
    const path = '/v1.0/contact/user/zhangsan/ownness';
    const body = { ownenssType: 1, startTime: 1_900_000_000_000, endTime: 1_900_003_600_000, deletedFlag: 0 };
    const set = decode(M.OwnnessAnswer, await h.call(path, { method: 'PUT', token: zhang, json: body }));
    expect(set.result).toMatch(/^\d+$/);
    const del = decode(
      M.OwnnessAnswer,
      await h.call(path, {
        method: 'PUT',
        token: zhang,
        json: { ...body, id: Number(set.result), deletedFlag: 1 },
      }),
    );
    expect(del.result).toBe(set.result);
  });
});

describe('to-do', () => {
  test('personalTasks answers only {taskId, createdTime}; the whole to-do is on the control API', async () => {
    const created = decode(
      M.CreatedPersonalTodo,
      await h.call('/v1.0/todo/users/me/personalTasks', {
        method: 'POST',
        token: zhang,
        json: { subject: '合同 Contract', executorIds: ['union-zhangsan'], description: 'the renewal' },
      }),
    );
    const data = await h.call('/sandbox/users/zhangsan/data');
    expect(data.body.todos).toContainEqual(
      expect.objectContaining({
        taskId: created.taskId,
        description: 'the renewal',
        executorIds: ['union-zhangsan'],
      }),
    );
  });

  test('tasks/list answers QueryTodoTasksResponseBody: no description, executorIds, participantIds', async () => {
    const list = decode(
      M.TodoList,
      await h.call('/v1.0/todo/users/union-zhangsan/tasks/list', { method: 'POST', token: zhang, json: {} }),
    );
    expect(list.todoCards.length).toBeGreaterThan(0);
    decode(
      M.TodoList,
      await h.call('/v1.0/todo/users/me/tasks/list', {
        method: 'POST',
        token: zhang,
        json: { isDone: true },
      }),
    );
  });
});

describe('calendar', () => {
  const path = '/v1.0/calendar/users/union-zhangsan/calendars/primary/events';

  test('create answers the event model with reminders[].minutes as a string', async () => {
    const event = decode(
      M.CalendarEvent,
      await h.call(path, {
        method: 'POST',
        token: zhang,
        json: {
          summary: '拜访 Visit',
          start: { dateTime: '2031-03-10T10:00:00+08:00', timeZone: 'Asia/Shanghai' },
          attendees: [{ id: 'union-lisi', isOptional: true }],
          location: { displayName: '杭州' },
          reminders: [{ method: 'dingtalk', minutes: 30 }],
        },
      }),
    );
    expect(event.reminders).toEqual([{ method: 'dingtalk', minutes: '30' }]);
  });

  test('list answers ListEventsResponseBody', async () => {
    const page = decode(M.EventList, await h.call(`${path}?maxResults=1`, { token: zhang }));
    expect(page.events).toHaveLength(1);
    decode(M.EventList, await h.call(`${path}?nextToken=${page.nextToken}`, { token: zhang }));
  });
});

describe('errors', () => {
  test('every failure answers the common envelope, with accessdenieddetail on a missing scope', async () => {
    const li = (await userTokens(h, 'lisi', ['openid'])).accessToken;
    const failures = [
      await h.call('/v1.0/contact/users/me'),
      await h.call('/v1.0/contact/users/me', { token: 'f'.repeat(32) }),
      await h.call('/v1.0/todo/users/me/personalTasks', {
        method: 'POST',
        token: li,
        json: { subject: 'x' },
      }),
      await h.call('/v1.0/nothing', { token: zhang }),
    ];
    for (const res of failures) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      const parsed = M.ErrorEnvelope.safeParse(res.body);
      expect(parsed.success, res.text).toBe(true);
    }
    expect(failures[2]?.body.accessdenieddetail).toEqual({ requiredScopes: ['Todo.PersonalTodo.Write'] });
  });
});
