import type { SandboxClock } from '../clock.js';
import { SEED_APP, SEED_CORP, SEED_USERS } from '../seed.js';
import type { AppInput } from './repos/apps.js';
import type { PlatformRepos } from './repos/index.js';
import { ALL_API_SCOPES } from './scopes.js';
import { shanghaiDayAt, toShanghaiDate, toShanghaiDateTime } from './time.js';

const DAY = 86_400_000;

/** An app to have on the platform; what is left out gets the seed app's defaults. */
export interface PlatformAppSeed {
  clientId: string;
  clientSecret: string;
  /** Display name (default: the clientId). */
  name?: string;
  /** Default: the seed corp. */
  corpId?: string;
  /** Permission codes the app declares (default: every scope the sandbox knows). */
  scopes?: readonly string[];
  redirectUris?: readonly string[];
}

/** Extra things the embedding server wants present after every seed and reset. */
export interface SeedExtras {
  /** More redirect URIs for the seed app (the assistant page's own callback, for instance). */
  seedAppRedirectUris?: readonly string[];
  /**
   * More apps. An entry with the seed app's clientId adds its redirect URIs and, when it has a name,
   * renames the seed app (`dingtalk-skills dev` shows the developer's app name); its secret stays.
   */
  apps?: readonly PlatformAppSeed[];
}

/**
 * Puts the seed (corp, app, users, each user's to-dos, events and personal status) into the database.
 * Idempotent: rows are keyed by fixed ids and inserted only when missing, so reopening a database
 * keeps whatever the users changed. Times are relative to the clock at first seed.
 */
export function seedPlatform(repos: PlatformRepos, clock: SandboxClock, extras: SeedExtras = {}): void {
  const now = clock.now();
  repos.users.insertCorpIfMissing(SEED_CORP.corpId, SEED_CORP.name);
  // `dingtalk-skills dev` names the seed app after the developer's app (cards, consent page).
  const seedName = extras.apps?.find((a) => a.clientId === SEED_APP.clientId)?.name ?? SEED_APP.name;
  repos.apps.insertIfMissing({
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    name: seedName,
    corpId: SEED_CORP.corpId,
    scopes: ALL_API_SCOPES,
    redirectUris: [...SEED_APP.redirectUris, ...(extras.seedAppRedirectUris ?? [])],
  });
  for (const app of extras.apps ?? []) {
    repos.apps.insertIfMissing(completeApp(app));
    // A name given now wins over the one a reopened database kept.
    if (app.name !== undefined) repos.apps.rename(app.clientId, app.name);
  }
  for (const u of SEED_USERS)
    repos.users.insertIfMissing({ ...u, corpId: SEED_CORP.corpId, stateCode: '86', avatarUrl: '' });

  const [zhang, li] = SEED_USERS;
  if (!zhang || !li) return;
  seedTodos(repos, zhang.unionId, now, [
    { id: 'seed-todo-zhangsan-1', subject: '准备季度客户回访名单 Prepare the quarterly call list', due: 1 },
    { id: 'seed-todo-zhangsan-2', subject: '跟进杭州钉钉网络有限公司合同 Follow up the contract', due: 3 },
    { id: 'seed-todo-zhangsan-3', subject: '提交差旅报销 Submit travel expenses', due: -1, done: true },
  ]);
  seedTodos(repos, li.unionId, now, [
    { id: 'seed-todo-lisi-1', subject: '整理销售周报 Write the weekly sales report', due: 2 },
    { id: 'seed-todo-lisi-2', subject: '预约客户演示 Book a customer demo', due: 5 },
  ]);
  seedEvent(repos, zhang.unionId, 'seed-event-zhangsan-1', now, {
    summary: '客户拜访：杭州钉钉网络有限公司 Customer visit',
    day: 1,
    hour: 10,
    hours: 1,
    location: '杭州 Hangzhou',
    attendees: [],
  });
  seedEvent(repos, zhang.unionId, 'seed-event-zhangsan-2', now, {
    summary: '销售周会 Weekly sales sync',
    day: 2,
    hour: 15,
    hours: 1,
    location: '会议室 A Room A',
    attendees: [li.unionId],
  });
  seedEvent(repos, li.unionId, 'seed-event-lisi-1', now, {
    summary: '产品培训 Product training',
    day: 3,
    hour: 14,
    hours: 2,
    location: '线上 Online',
    attendees: [],
  });
  repos.ownness.put(
    zhang.userId,
    {
      id: 'seed-status-zhangsan',
      ownenssType: 3,
      startTime: shanghaiDayAt(now, 4, 9),
      endTime: shanghaiDayAt(now, 6, 18),
    },
    true,
  );
  repos.ownness.put(
    li.userId,
    {
      id: 'seed-status-lisi',
      ownenssType: 1,
      startTime: shanghaiDayAt(now, 7, 9),
      endTime: shanghaiDayAt(now, 7, 18),
    },
    true,
  );
}

function seedTodos(
  repos: PlatformRepos,
  unionId: string,
  now: number,
  todos: Array<{ id: string; subject: string; due: number; done?: boolean }>,
): void {
  todos.forEach((t, i) => {
    repos.todos.create(unionId, {
      taskId: t.id,
      subject: t.subject,
      dueTime: shanghaiDayAt(now, t.due, 18),
      isDone: t.done ?? false,
      executorIds: [unionId],
      createdTime: now - (todos.length - i) * DAY,
    });
  });
}

function seedEvent(
  repos: PlatformRepos,
  organizer: string,
  eventId: string,
  now: number,
  e: { summary: string; day: number; hour: number; hours: number; location: string; attendees: string[] },
): void {
  const startMs = shanghaiDayAt(now, e.day, e.hour);
  const endMs = startMs + e.hours * 3_600_000;
  repos.events.create(organizer, {
    eventId,
    startMs,
    endMs,
    body: {
      summary: e.summary,
      description: `沙箱示例日程 Sandbox sample event (${toShanghaiDate(startMs)})`,
      start: { dateTime: toShanghaiDateTime(startMs), timeZone: 'Asia/Shanghai' },
      end: { dateTime: toShanghaiDateTime(endMs), timeZone: 'Asia/Shanghai' },
      isAllDay: false,
      location: { displayName: e.location },
      attendees: e.attendees.map((id) => ({ id })),
      reminders: [{ method: 'dingtalk', minutes: 15 }],
    },
  });
}

/** Fills an app seed's defaults. */
export function completeApp(app: PlatformAppSeed): AppInput {
  return {
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    name: app.name ?? app.clientId,
    corpId: app.corpId ?? SEED_CORP.corpId,
    scopes: app.scopes ?? ALL_API_SCOPES,
    redirectUris: app.redirectUris ?? [],
  };
}
