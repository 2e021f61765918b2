import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { newId } from '../ids.js';
import { readStringList } from '../json-column.js';

/** A stored to-do, as the control API shows it (the to-do API answers a subset: `publishedCard`). */
export interface TodoCard {
  taskId: string;
  subject: string;
  description: string;
  dueTime?: number;
  isDone: boolean;
  /** 10 low, 20 normal, 30 urgent, 40 very urgent. */
  priority: number;
  creatorId: string;
  executorIds: string[];
  participantIds: string[];
  createdTime: number;
  modifiedTime: number;
  bizTag: string;
}

export interface NewTodo {
  /** Fixed id (seeding); generated when absent. */
  taskId?: string;
  subject: string;
  description?: string;
  dueTime?: number;
  isDone?: boolean;
  priority?: number;
  executorIds: readonly string[];
  participantIds?: readonly string[];
  createdTime?: number;
}

export interface TodoQuery {
  isDone?: boolean;
  fromDueTime?: number;
  toDueTime?: number;
  offset: number;
  limit: number;
}

interface TodoRow {
  task_id: string;
  creator_union_id: string;
  subject: string;
  description: string;
  due_time: number | null;
  is_done: number;
  priority: number;
  executor_ids: string;
  participant_ids: string;
  created_time: number;
  modified_time: number;
}

const toCard = (r: TodoRow): TodoCard => {
  const card: TodoCard = {
    taskId: r.task_id,
    subject: r.subject,
    description: r.description,
    isDone: r.is_done === 1,
    priority: r.priority,
    creatorId: r.creator_union_id,
    executorIds: readStringList(r.executor_ids),
    participantIds: readStringList(r.participant_ids),
    createdTime: r.created_time,
    modifiedTime: r.modified_time,
    bizTag: 'sandbox',
  };
  if (r.due_time !== null) card.dueTime = r.due_time;
  return card;
};

/** To-dos. A to-do shows in the lists of its creator, executors and participants. */
export class TodosRepo {
  readonly #db: PlatformDb;
  readonly #clock: SandboxClock;
  constructor(db: PlatformDb, clock: SandboxClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Creates a to-do; with a fixed `taskId` that exists already, returns the existing one. */
  create(creatorUnionId: string, input: NewTodo): TodoCard {
    const now = this.#clock.now();
    const taskId = input.taskId ?? newId('task');
    const created = input.createdTime ?? now;
    this.#db.transaction(() => {
      const inserted = this.#db
        .prepare(
          `INSERT OR IGNORE INTO todos (task_id, creator_union_id, subject, description, due_time, is_done,
             priority, executor_ids, participant_ids, created_time, modified_time)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          taskId,
          creatorUnionId,
          input.subject,
          input.description ?? '',
          input.dueTime ?? null,
          input.isDone ? 1 : 0,
          input.priority ?? 20,
          JSON.stringify([...input.executorIds]),
          JSON.stringify([...(input.participantIds ?? [])]),
          created,
          created,
        ).changes;
      if (inserted === 0) return;
      const members = new Set([creatorUnionId, ...input.executorIds, ...(input.participantIds ?? [])]);
      const addMember = this.#db.prepare(
        'INSERT OR IGNORE INTO todo_members (task_id, union_id) VALUES (?, ?)',
      );
      for (const m of members) addMember.run(taskId, m);
    })();
    return this.get(taskId)!;
  }

  get(taskId: string): TodoCard | undefined {
    const row = this.#db.prepare('SELECT * FROM todos WHERE task_id = ?').get(taskId) as TodoRow | undefined;
    return row ? toCard(row) : undefined;
  }

  /** A user's to-dos, newest first, with the total before paging. */
  listFor(unionId: string, q: TodoQuery): { items: TodoCard[]; total: number } {
    const where = `FROM todos t JOIN todo_members m ON m.task_id = t.task_id
      WHERE m.union_id = @unionId
        AND (@isDone IS NULL OR t.is_done = @isDone)
        AND (@from IS NULL OR (t.due_time IS NOT NULL AND t.due_time >= @from))
        AND (@to IS NULL OR (t.due_time IS NOT NULL AND t.due_time <= @to))`;
    const params = {
      unionId,
      isDone: q.isDone === undefined ? null : q.isDone ? 1 : 0,
      from: q.fromDueTime ?? null,
      to: q.toDueTime ?? null,
    };
    const total = (this.#db.prepare(`SELECT COUNT(*) AS n ${where}`).get(params) as { n: number }).n;
    const rows = this.#db
      .prepare(`SELECT t.* ${where} ORDER BY t.created_time DESC, t.task_id LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: q.limit, offset: q.offset }) as TodoRow[];
    return { items: rows.map(toCard), total };
  }
}
