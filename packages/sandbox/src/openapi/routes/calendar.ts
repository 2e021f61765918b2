import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Platform } from '../../platform/platform.js';
import type { CalendarEvent, CalendarTime, EventAttendee, EventRecord } from '../../platform/repos/index.js';
import { Scope } from '../../platform/scopes.js';
import { parseDateTime, parseShanghaiDate, toShanghaiDate, toShanghaiDateTime } from '../../platform/time.js';
import { Failures } from '../failure.js';
import { callerOf, requireSelfUnionId, requireUserToken } from '../guard.js';
import { decodeCursor, encodeCursor, parseOr400 } from '../validate.js';

const PATH = '/v1.0/calendar/users/:unionId/calendars/primary/events';
const DAY = 86_400_000;

const calendarTime = z.object({
  dateTime: z.string().max(64).optional(),
  timeZone: z.string().max(64).optional(),
  date: z.string().max(16).optional(),
});

const createBody = z.object({
  summary: z.string().trim().min(1).max(2048),
  description: z.string().max(5000).optional(),
  start: calendarTime,
  end: calendarTime.optional(),
  isAllDay: z.boolean().optional(),
  location: z.object({ displayName: z.string().max(512) }).optional(),
  attendees: z
    .array(z.object({ id: z.string().min(1).max(64), isOptional: z.boolean().optional() }))
    .max(500)
    .optional(),
  reminders: z
    .array(z.object({ method: z.string().max(32), minutes: z.number().int().min(0) }))
    .max(5)
    .optional(),
});

const listQuery = z.object({
  timeMin: z.string().max(64).optional(),
  timeMax: z.string().max(64).optional(),
  maxResults: z.coerce.number().int().min(1).max(100).optional(),
  nextToken: z.string().max(256).optional(),
});

/** Epoch ms of a calendar time, or a 400 naming the field. */
function instant(time: CalendarTime, allDay: boolean, field: string): number {
  if (allDay) {
    const ms = time.date === undefined ? undefined : parseShanghaiDate(time.date);
    if (ms === undefined)
      throw Failures.invalidParameter(`${field}.date: expected YYYY-MM-DD for an all-day event`);
    return ms;
  }
  const ms = time.dateTime === undefined ? undefined : parseDateTime(time.dateTime);
  if (ms === undefined)
    throw Failures.invalidParameter(`${field}.dateTime: expected ISO-8601 like 2020-01-01T10:15:30+08:00`);
  return ms;
}

/** The end of an event created without one: one hour later, or the next day for all-day events. */
function defaultEnd(endMs: number, allDay: boolean, timeZone: string | undefined): CalendarTime {
  return allDay
    ? { date: toShanghaiDate(endMs) }
    : { dateTime: toShanghaiDateTime(endMs), timeZone: timeZone ?? 'Asia/Shanghai' };
}

function isoParam(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = parseDateTime(value);
  if (ms === undefined)
    throw Failures.invalidParameter(`${field}: expected ISO-8601 like 2020-01-01T10:15:30+08:00`);
  return ms;
}

/** Calendar: create and list events on the user's primary calendar. */
export function registerCalendarRoutes(scope: FastifyInstance, platform: Platform): void {
  const attendee = (
    unionId: string,
    viewer: string,
    status: EventAttendee['responseStatus'],
  ): EventAttendee => ({
    id: unionId,
    displayName: platform.repos.users.byUnionId(unionId)?.name ?? unionId,
    responseStatus: status,
    self: unionId === viewer,
  });

  const render = (e: EventRecord, viewer: string): CalendarEvent => {
    const b = e.body;
    return {
      id: e.eventId,
      summary: b.summary,
      description: b.description,
      start: b.start,
      end: b.end,
      isAllDay: b.isAllDay,
      ...(b.location ? { location: b.location } : {}),
      attendees: b.attendees.map((a) => ({
        ...attendee(a.id, viewer, 'needsAction'),
        ...(a.isOptional === undefined ? {} : { isOptional: a.isOptional }),
      })),
      organizer: attendee(e.organizerUnionId, viewer, 'accepted'),
      // Published answer type: `minutes` is a string (an int32 in the create request).
      reminders: b.reminders.map((r) => ({ method: r.method, minutes: String(r.minutes) })),
      status: 'confirmed',
      createTime: new Date(e.createTime).toISOString(),
      updateTime: new Date(e.updateTime).toISOString(),
    };
  };

  scope.post<{ Params: { unionId: string } }>(
    PATH,
    { onRequest: requireUserToken(platform, { scope: Scope.CalendarEventWrite }) },
    async (request) => {
      const caller = callerOf(request);
      requireSelfUnionId(caller, request.params.unionId);
      const body = parseOr400(createBody, request.body);
      const allDay = body.isAllDay ?? (body.start.date !== undefined && body.start.dateTime === undefined);
      const startMs = instant(body.start, allDay, 'start');
      const endMs = body.end ? instant(body.end, allDay, 'end') : startMs + (allDay ? DAY : 3_600_000);
      if (endMs <= startMs) throw Failures.invalidParameter('end: must be after start');
      for (const a of body.attendees ?? [])
        if (!platform.repos.users.byUnionId(a.id))
          throw Failures.invalidParameter(`attendees: unknown unionId ${a.id}`);
      const record = platform.repos.events.create(caller.user.unionId, {
        startMs,
        endMs,
        body: {
          summary: body.summary,
          description: body.description ?? '',
          start: body.start,
          end: body.end ?? defaultEnd(endMs, allDay, body.start.timeZone),
          isAllDay: allDay,
          ...(body.location ? { location: body.location } : {}),
          attendees: (body.attendees ?? []).filter((a) => a.id !== caller.user.unionId),
          reminders: body.reminders ?? [{ method: 'dingtalk', minutes: 15 }],
        },
      });
      platform.logger.info({ userId: caller.user.userId, eventId: record.eventId }, 'event created');
      return render(record, caller.user.unionId);
    },
  );

  scope.get<{ Params: { unionId: string } }>(
    PATH,
    { onRequest: requireUserToken(platform, { scope: Scope.CalendarEventRead }) },
    async (request) => {
      const caller = callerOf(request);
      requireSelfUnionId(caller, request.params.unionId);
      const q = parseOr400(listQuery, request.query);
      const timeMin = isoParam(q.timeMin, 'timeMin');
      const timeMax = isoParam(q.timeMax, 'timeMax');
      const offset = decodeCursor(q.nextToken);
      const page = platform.repos.events.listFor(caller.user.unionId, {
        ...(timeMin === undefined ? {} : { timeMin }),
        ...(timeMax === undefined ? {} : { timeMax }),
        offset,
        limit: q.maxResults ?? 100,
      });
      const next = offset + page.items.length;
      return {
        events: page.items.map((e) => render(e, caller.user.unionId)),
        ...(next < page.total ? { nextToken: encodeCursor(next) } : {}),
      };
    },
  );
}
