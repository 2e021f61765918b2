import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { newNumericId } from '../ids.js';

/** A personal status (个人状态): 1 leave (请假), 3 business trip (出差). */
export interface OwnnessStatus {
  id: string;
  ownenssType: number;
  startTime: number;
  endTime: number;
  updatedAt: number;
}

interface OwnnessRow {
  id: string;
  ownness_type: number;
  start_time: number;
  end_time: number;
  updated_at: number;
}

const toStatus = (r: OwnnessRow): OwnnessStatus => ({
  id: r.id,
  ownenssType: r.ownness_type,
  startTime: r.start_time,
  endTime: r.end_time,
  updatedAt: r.updated_at,
});

/** Personal statuses per user, keyed by status id. */
export class OwnnessRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Creates or replaces a status; an absent id gets a new one. With `onlyIfMissing`, an existing id is kept. */
  put(
    userId: string,
    s: { id?: string; ownenssType: number; startTime: number; endTime: number },
    onlyIfMissing = false,
  ): OwnnessStatus {
    const id = s.id ?? newNumericId();
    const verb = onlyIfMissing ? 'INSERT OR IGNORE' : 'INSERT OR REPLACE';
    this.#db
      .prepare(
        `${verb} INTO ownness (user_id, id, ownness_type, start_time, end_time, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(userId, id, s.ownenssType, s.startTime, s.endTime, this.#clock.now());
    return this.list(userId).find((x) => x.id === id)!;
  }

  /** Deletes a status. Returns false when there was none with that id. */
  delete(userId: string, id: string): boolean {
    return this.#db.prepare('DELETE FROM ownness WHERE user_id = ? AND id = ?').run(userId, id).changes === 1;
  }

  /** All of a user's statuses (past, current and future), by start time. */
  list(userId: string): OwnnessStatus[] {
    const rows = this.#db
      .prepare('SELECT * FROM ownness WHERE user_id = ? ORDER BY start_time, id')
      .all(userId) as OwnnessRow[];
    return rows.map(toStatus);
  }
}
