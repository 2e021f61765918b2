/**
 * Request and response shapes of the "me" APIs reached with a user token. Field names are
 * DingTalk's (including the spelling `ownenssType`). Times are epoch milliseconds unless stated.
 */

/**
 * `GET /v1.0/contact/users/me`: DingTalk's published model (SDK `GetUserResponseBody`), nothing more.
 * Absent fields are ones DingTalk leaves out (e.g. `mobile` without the `Contact.User.mobile` scope).
 */
export interface ContactUser {
  nick: string;
  unionId: string;
  avatarUrl?: string;
  /** Present with the `Contact.User.mobile` scope. A string of digits. */
  mobile?: string;
  /** Country code such as "86" (a string). */
  stateCode?: string;
  openId?: string;
  email?: string;
  loginEmail?: string;
  visitor?: boolean;
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

/** Answer of `POST /v1.0/todo/users/me/personalTasks`: exactly these two fields (published model). */
export interface CreatedTodo {
  taskId: string;
  createdTime: number;
}

/** Filter of `POST /v1.0/todo/users/{unionId}/tasks/list`. */
export interface ListTodosInput {
  isDone?: boolean;
  nextToken?: string;
  fromDueTime?: number;
  toDueTime?: number;
}

/**
 * One to-do in a list (published `todoCards[]` model). A card carries no description, executors or
 * participants: DingTalk does not send them here.
 */
export interface TodoCard {
  taskId: string;
  subject: string;
  dueTime?: number;
  isDone?: boolean;
  /** 10 low, 20 normal, 30 urgent, 40 very urgent. */
  priority?: number;
  createdTime?: number;
  modifiedTime?: number;
  creatorId?: string;
  sourceId?: string;
  bizTag?: string;
  todoType?: string;
  detailUrl?: { appUrl?: string; pcUrl?: string };
  category?: string;
  todoStatus?: string;
  orgInfo?: { corpId?: string; name?: string };
  originalSource?: { sourceTitle?: string };
  todoCardView?: {
    actionType?: string;
    cardType?: string;
    circleELType?: string;
    contentType?: string;
    icon?: string;
    todoCardTitle?: string;
    todoCardContentList?: { name?: string; value?: string }[];
  };
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

/** An attendee or the organizer of an event, as DingTalk returns it. */
export interface EventPerson {
  id?: string;
  displayName?: string;
  /** `needsAction`, `accepted`, `declined`, `tentative`. */
  responseStatus?: string;
  isOptional?: boolean;
  self?: boolean;
}

/** A calendar event as DingTalk returns it (published `ListEvents` / `CreateEvent` answer model). */
export interface CalendarEvent {
  id: string;
  summary: string;
  start: EventTime;
  end?: EventTime;
  isAllDay?: boolean;
  description?: string;
  /** `confirmed` or `cancelled`. */
  status?: string;
  organizer?: EventPerson;
  attendees?: EventPerson[];
  location?: { displayName?: string; meetingRooms?: string[] };
  /** ⚠ `minutes` is a string in answers (a number in the create request). */
  reminders?: { method?: string; minutes?: string }[];
  createTime?: string;
  updateTime?: string;
  seriesMasterId?: string;
  originStart?: { dateTime?: string };
  recurrence?: {
    pattern?: {
      type?: string;
      interval?: number;
      daysOfWeek?: string;
      dayOfMonth?: number;
      index?: string;
      firstDayOfWeek?: string;
    };
    range?: { type?: string; endDate?: string; numberOfOccurrences?: number };
  };
  meetingRooms?: { roomId?: string; displayName?: string; responseStatus?: string }[];
  onlineMeetingInfo?: {
    type?: string;
    conferenceId?: string;
    url?: string;
    extraInfo?: Record<string, unknown>;
  };
  categories?: { displayName?: string }[];
  extendedProperties?: { sharedProperties?: { belongCorpId?: string; sourceOpenCid?: string } };
  richTextDescription?: { text?: string };
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
  syncToken?: string;
}

/** Personal status (个人状态) kinds DingTalk documents for `ownenssType`. */
export const OwnnessType = { Leave: 1, BusinessTrip: 3 } as const;

/** Input of `PUT /v1.0/contact/user/{userId}/ownness` (DingTalk's spelling `ownenssType`). */
export interface SetOwnnessInput {
  /** The status record's id (DingTalk's type: int64), to update or delete one set before. */
  id?: number | string;
  /** 1 leave, 3 business trip (see {@link OwnnessType}). */
  ownenssType: number;
  startTime: number;
  endTime: number;
  /** 1 deletes the record named by `id`. */
  deletedFlag?: number;
}

/** Answer of the personal status call: ⚠ `result` is a string (SDK example "123456"), not a boolean. */
export interface OwnnessResult {
  result: string;
}

/** Answer of `GET /v1.0/oauth2/authRules/user`: the scopes the user granted, by resource. */
export interface AuthRules {
  result: { resource: string; authItems: string[] }[];
}
