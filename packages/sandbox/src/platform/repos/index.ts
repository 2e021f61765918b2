import type { SandboxClock } from '../../clock.js';
import type { PlatformDb } from '../db/open.js';
import { AppsRepo } from './apps.js';
import { AuthCodesRepo } from './auth-codes.js';
import { EventsRepo } from './events.js';
import { GrantsRepo } from './grants.js';
import { OwnnessRepo } from './ownness.js';
import { TodosRepo } from './todos.js';
import { TokenStatsRepo } from './token-stats.js';
import { TokensRepo } from './tokens.js';
import { UsersRepo } from './users.js';

/** Every table's access object, over one database. */
export interface PlatformRepos {
  apps: AppsRepo;
  users: UsersRepo;
  grants: GrantsRepo;
  codes: AuthCodesRepo;
  tokens: TokensRepo;
  stats: TokenStatsRepo;
  todos: TodosRepo;
  events: EventsRepo;
  ownness: OwnnessRepo;
}

export function createRepos(db: PlatformDb, clock: SandboxClock): PlatformRepos {
  return {
    apps: new AppsRepo(db, clock),
    users: new UsersRepo(db),
    grants: new GrantsRepo(db, clock),
    codes: new AuthCodesRepo(db, clock),
    tokens: new TokensRepo(db, clock),
    stats: new TokenStatsRepo(db),
    todos: new TodosRepo(db, clock),
    events: new EventsRepo(db, clock),
    ownness: new OwnnessRepo(db, clock),
  };
}

export type { AppInput, PlatformApp } from './apps.js';
export type { AuthCodeRecord } from './auth-codes.js';
export type { CalendarEvent, CalendarTime, EventAttendee, EventRecord, StoredEventBody } from './events.js';
export type { Grant } from './grants.js';
export type { OwnnessStatus } from './ownness.js';
export type { NewTodo, TodoCard } from './todos.js';
export type { TokenStats, TokenStatsRow } from './token-stats.js';
export type { ResolvedToken, UserTokenPair } from './tokens.js';
export type { PlatformUser } from './users.js';
