import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { newId } from '../ids.js';

/** A calendar time as the calendar API carries it: a date-time with zone, or a date (all-day). */
export interface CalendarTime {
  dateTime?: string;
  timeZone?: string;
  date?: string;
}

export interface EventAttendee {
  id: string;
  displayName: string;
  responseStatus: 'needsAction' | 'accepted' | 'declined' | 'tentative';
  self: boolean;
  isOptional?: boolean;
}

/** The calendar event the API returns. */
export interface CalendarEvent {
  id: string;
  summary: string;
  description: string;
  start: CalendarTime;
  end: CalendarTime;
  isAllDay: boolean;
  location?: { displayName: string };
  attendees: EventAttendee[];
  organizer: EventAttendee;
  /** `minutes` is a string in DingTalk's answers (an int32 in the create request). */
  reminders: Array<{ method: string; minutes: string }>;
  status: 'confirmed';
  createTime: string;
  updateTime: string;
}

/** What is stored for an event besides the indexed times. */
export interface StoredEventBody {
  summary: string;
  description: string;
  start: CalendarTime;
  end: CalendarTime;
  isAllDay: boolean;
  location?: { displayName: string };
  attendees: Array<{ id: string; isOptional?: boolean }>;
  reminders: Array<{ method: string; minutes: number }>;
}

export interface NewEvent {
  /** Fixed id (seeding); generated when absent. */
  eventId?: string;
  startMs: number;
  endMs: number;
  body: StoredEventBody;
}

interface EventRow {
  event_id: string;
  organizer_union_id: string;
  start_ms: number;
  end_ms: number;
  body: string;
  create_time: number;
  update_time: number;
}

/** Stored event plus who organized it; turned into a `CalendarEvent` for a viewer by the API layer. */
export interface EventRecord {
  eventId: string;
  organizerUnionId: string;
  startMs: number;
  endMs: number;
  body: StoredEventBody;
  createTime: number;
  updateTime: number;
}

const toRecord = (r: EventRow): EventRecord => ({
  eventId: r.event_id,
  organizerUnionId: r.organizer_union_id,
  startMs: r.start_ms,
  endMs: r.end_ms,
  body: JSON.parse(r.body) as StoredEventBody,
  createTime: r.create_time,
  updateTime: r.update_time,
});

/** Primary-calendar events. An event shows in the calendars of its organizer and attendees. */
export class EventsRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  create(organizerUnionId: string, input: NewEvent): EventRecord {
    const now = this.#clock.now();
    const eventId = input.eventId ?? newId('evt');
    this.#db.transaction(() => {
      const inserted = this.#db
        .prepare(
          `INSERT OR IGNORE INTO events (event_id, organizer_union_id, start_ms, end_ms, body, create_time, update_time)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          eventId,
          organizerUnionId,
          input.startMs,
          input.endMs,
          JSON.stringify(input.body),
          now,
          now,
        ).changes;
      if (inserted === 0) return;
      const members = new Set([organizerUnionId, ...input.body.attendees.map((a) => a.id)]);
      const add = this.#db.prepare('INSERT OR IGNORE INTO event_members (event_id, union_id) VALUES (?, ?)');
      for (const m of members) add.run(eventId, m);
    })();
    return this.get(eventId)!;
  }

  get(eventId: string): EventRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM events WHERE event_id = ?').get(eventId) as
      | EventRow
      | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Events of a user overlapping [timeMin, timeMax), by start time. */
  listFor(
    unionId: string,
    q: { timeMin?: number; timeMax?: number; offset: number; limit: number },
  ): { items: EventRecord[]; total: number } {
    const where = `FROM events e JOIN event_members m ON m.event_id = e.event_id
      WHERE m.union_id = @unionId
        AND (@timeMin IS NULL OR e.end_ms > @timeMin)
        AND (@timeMax IS NULL OR e.start_ms < @timeMax)`;
    const params = { unionId, timeMin: q.timeMin ?? null, timeMax: q.timeMax ?? null };
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n ${where}`).get(params) as { n: number }).n;
    const rows = this.#db
      .prepare(`SELECT e.* ${where} ORDER BY e.start_ms, e.event_id LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: q.limit, offset: q.offset }) as EventRow[];
    return { items: rows.map(toRecord), total };
  }
}
