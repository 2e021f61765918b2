/**
 * Request and response shapes of the "me" APIs reached with a user token. Field names are
 * DingTalk's (including the spelling `ownenssType`). Times are epoch milliseconds unless stated.
 */

/** `GET /v1.0/contact/users/me`. */
export interface ContactUser {
  nick: string;
  unionId: string;
  avatarUrl?: string;
  /** Present with the `Contact.User.mobile` scope. */
  mobile?: string;
  stateCode?: string;
  openId?: string;
  email?: string;
  visitor?: unknown;
}

/** Input of `POST /v1.0/todo/users/me/personalTasks`. */
export interface CreateTodoInput {
  subject: string;
  description?: string;
  /** Due time, epoch ms. */
  dueTime?: number;
  /** unionIds of the executors; default: the user's own unionId when the token source knows it. */
  executorIds?: string[];
  /** unionIds of the participants. */
  participantIds?: string[];
  /** `{ dingNotify: "1" }` sends a DING reminder. */
  notifyConfigs?: { dingNotify?: string };
  /** Reminder time, epoch ms. */
  reminderTimeStamp?: number;
}

/** Answer of `POST /v1.0/todo/users/me/personalTasks`. */
export interface CreatedTodo {
  taskId: string;
  createdTime: number;
  [field: string]: unknown;
}

/** Filter of `POST /v1.0/todo/users/{unionId}/tasks/list`. */
export interface ListTodosInput {
  isDone?: boolean;
  nextToken?: string;
  fromDueTime?: number;
  toDueTime?: number;
}

/** One to-do in a list. */
export interface TodoCard {
  taskId: string;
  subject: string;
  dueTime?: number;
  isDone?: boolean;
  priority?: number;
  createdTime?: number;
  [field: string]: unknown;
}

/** Answer of `POST /v1.0/todo/users/{unionId}/tasks/list`. */
export interface TodoList {
  todoCards: TodoCard[];
  nextToken?: string;
  totalCount?: number;
}

/** A calendar time: `dateTime` (e.g. `2020-01-01T10:15:30+08:00`) with `timeZone`, or an all-day `date` (`yyyy-MM-dd`). */
export interface EventTime {
  dateTime?: string;
  timeZone?: string;
  date?: string;
}

/** Input of `POST /v1.0/calendar/users/{unionId}/calendars/primary/events`. */
export interface CreateEventInput {
  summary: string;
  start: EventTime;
  end?: EventTime;
  isAllDay?: boolean;
  description?: string;
  /** Attendees by unionId. */
  attendees?: { id: string; isOptional?: boolean }[];
  location?: { displayName: string };
  reminders?: { method: string; minutes: number }[];
}

/** A calendar event as DingTalk returns it. */
export interface CalendarEvent {
  id: string;
  summary: string;
  start: EventTime;
  end?: EventTime;
  isAllDay?: boolean;
  description?: string;
  organizer?: { id?: string; displayName?: string; self?: boolean; [field: string]: unknown };
  attendees?: { id?: string; displayName?: string; responseStatus?: string; [field: string]: unknown }[];
  location?: { displayName?: string };
  createTime?: string;
  updateTime?: string;
  [field: string]: unknown;
}

/** Query of `GET /v1.0/calendar/users/{unionId}/calendars/primary/events`. */
export interface ListEventsInput {
  /** Lower bound; a Date is sent as ISO 8601. */
  timeMin?: string | Date;
  /** Upper bound; a Date is sent as ISO 8601. */
  timeMax?: string | Date;
  maxResults?: number;
  nextToken?: string;
}

/** Answer of the event list. */
export interface EventList {
  events: CalendarEvent[];
  nextToken?: string;
}

/** Personal status (个人状态) kinds DingTalk documents for `ownenssType`. */
export const OwnnessType = { Leave: 1, BusinessTrip: 3 } as const;

/** Input of `PUT /v1.0/contact/user/{userId}/ownness` (DingTalk's spelling `ownenssType`). */
export interface SetOwnnessInput {
  /** The status record's id, to update or delete one set before. */
  id?: string;
  /** 1 leave, 3 business trip (see {@link OwnnessType}). */
  ownenssType: number;
  startTime: number;
  endTime: number;
  /** 1 deletes the record named by `id`. */
  deletedFlag?: number;
}

/** Answer of the personal status call. */
export interface OwnnessResult {
  result: unknown;
}

/** Answer of `GET /v1.0/oauth2/authRules/user`: the scopes the user granted, by resource. */
export interface AuthRules {
  result: { resource: string; authItems: string[] }[];
}
