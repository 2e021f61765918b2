import { z } from 'zod';

/**
 * DingTalk's published answer models, written from `/work/shared/reference/openapi-models.md` and
 * `user-credentials.md` (DingTalk's generated SDK `aliyun/dingtalk-sdk` `<Action>ResponseBody` structs and
 * help-centre pages), NOT from the sandbox's code. Every object is strict: a field the model does not
 * name fails the decode, and so does a field of the wrong JSON type (`*string` -> string, `*int64` ->
 * integer, `*bool` -> boolean). Optional = DingTalk may leave it out; required = the sandbox must send it.
 */

const int = z.number().int();

/** Common error envelope of every v1.0 API: `{code, message, requestid[, accessdenieddetail]}`. */
export const ErrorEnvelope = z.strictObject({
  code: z.string().min(1),
  message: z.string(),
  requestid: z.string().min(1),
  accessdenieddetail: z.strictObject({ requiredScopes: z.array(z.string()) }).optional(),
});

/** 1. `POST /v1.0/oauth2/userAccessToken` (GetUserTokenResponseBody). */
export const UserTokenAnswer = z.strictObject({
  accessToken: z.string().regex(/^[0-9a-f]{32}$/),
  refreshToken: z.string(),
  expireIn: int,
  /** Only when the authorization included `corpid`. */
  corpId: z.string().optional(),
});

/** 2. `POST /v1.0/oauth2/accessToken` (GetAccessTokenResponseBody). */
export const AppTokenAnswer = z.strictObject({ accessToken: z.string().min(1), expireIn: int });

/** Legacy `GET oapi.dingtalk.com/gettoken`: HTTP 200 with `errcode` (0 = ok). */
export const LegacyTokenAnswer = z.strictObject({
  errcode: int,
  errmsg: z.string(),
  access_token: z.string().min(1),
  expires_in: int,
});

/** 3. `GET /v1.0/contact/users/me` (GetUserResponseBody). `mobile`/`stateCode` need `Contact.User.mobile`. */
export const ContactUser = z.strictObject({
  nick: z.string(),
  avatarUrl: z.string(),
  mobile: z.string().optional(),
  stateCode: z.string().optional(),
  email: z.string(),
  loginEmail: z.string(),
  openId: z.string(),
  unionId: z.string(),
  visitor: z.boolean(),
});

/** 4a. `POST /v1.0/todo/users/me/personalTasks` (CreatePersonalTodoTaskResponseBody): two fields only. */
export const CreatedPersonalTodo = z.strictObject({ taskId: z.string().min(1), createdTime: int });

/** 4c. `POST /v1.0/todo/users/{unionId}/tasks/list` (QueryTodoTasksResponseBody) `todoCards[]`. */
export const TodoCard = z.strictObject({
  taskId: z.string().min(1),
  subject: z.string(),
  dueTime: int.optional(),
  isDone: z.boolean().optional(),
  priority: int.optional(),
  createdTime: int.optional(),
  modifiedTime: int.optional(),
  creatorId: z.string().optional(),
  sourceId: z.string().optional(),
  bizTag: z.string().optional(),
  todoType: z.string().optional(),
  detailUrl: z.strictObject({ appUrl: z.string().optional(), pcUrl: z.string().optional() }).optional(),
  category: z.string().optional(),
  todoStatus: z.string().optional(),
  orgInfo: z.strictObject({ corpId: z.string().optional(), name: z.string().optional() }).optional(),
  originalSource: z.strictObject({ sourceTitle: z.string().optional() }).optional(),
  todoCardView: z
    .strictObject({
      actionType: z.string().optional(),
      cardType: z.string().optional(),
      circleELType: z.string().optional(),
      contentType: z.string().optional(),
      icon: z.string().optional(),
      todoCardTitle: z.string().optional(),
      todoCardContentList: z
        .array(z.strictObject({ name: z.string().optional(), value: z.string().optional() }))
        .optional(),
    })
    .optional(),
});

export const TodoList = z.strictObject({
  todoCards: z.array(TodoCard),
  nextToken: z.string().optional(),
  totalCount: int.optional(),
});

/** 5a. A calendar time `{date, dateTime, timeZone}` (strings). */
const EventTime = z.strictObject({
  date: z.string().optional(),
  dateTime: z.string().optional(),
  timeZone: z.string().optional(),
});

const EventPerson = z.strictObject({
  id: z.string().optional(),
  displayName: z.string().optional(),
  responseStatus: z.string().optional(),
  isOptional: z.boolean().optional(),
  self: z.boolean().optional(),
});

/** 5a/5b. An event in `ListEvents` / `CreateEvent` answers. ⚠ `reminders[].minutes` is a string. */
export const CalendarEvent = z.strictObject({
  id: z.string().min(1),
  summary: z.string(),
  description: z.string().optional(),
  status: z.enum(['confirmed', 'cancelled']).optional(),
  isAllDay: z.boolean().optional(),
  start: EventTime,
  end: EventTime.optional(),
  originStart: z.strictObject({ dateTime: z.string().optional() }).optional(),
  createTime: z.string().optional(),
  updateTime: z.string().optional(),
  seriesMasterId: z.string().optional(),
  recurrence: z.strictObject({ pattern: z.unknown().optional(), range: z.unknown().optional() }).optional(),
  attendees: z.array(EventPerson).optional(),
  organizer: EventPerson.optional(),
  location: z
    .strictObject({ displayName: z.string().optional(), meetingRooms: z.array(z.string()).optional() })
    .optional(),
  meetingRooms: z
    .array(
      z.strictObject({
        roomId: z.string().optional(),
        displayName: z.string().optional(),
        responseStatus: z.string().optional(),
      }),
    )
    .optional(),
  onlineMeetingInfo: z
    .strictObject({
      type: z.string().optional(),
      conferenceId: z.string().optional(),
      url: z.string().optional(),
      extraInfo: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  reminders: z
    .array(z.strictObject({ method: z.string().optional(), minutes: z.string().optional() }))
    .optional(),
  categories: z.array(z.strictObject({ displayName: z.string().optional() })).optional(),
  extendedProperties: z
    .strictObject({
      sharedProperties: z
        .strictObject({ belongCorpId: z.string().optional(), sourceOpenCid: z.string().optional() })
        .optional(),
    })
    .optional(),
  richTextDescription: z.strictObject({ text: z.string().optional() }).optional(),
});

export const EventList = z.strictObject({
  events: z.array(CalendarEvent),
  nextToken: z.string().optional(),
  syncToken: z.string().optional(),
});

/** 6. `PUT /v1.0/contact/user/{userId}/ownness` (UpdateUserOwnnessResponseBody): ⚠ `result` is a string. */
export const OwnnessAnswer = z.strictObject({ result: z.string() });

/** 7. `GET /v1.0/oauth2/authRules/user` (GetPersonalAuthRuleResponseBody). */
export const AuthRules = z.strictObject({
  result: z.array(z.strictObject({ resource: z.string(), authItems: z.array(z.string()) })),
});

/** Stream `POST /v1.0/gateway/connections/open` (stream-protocol.md §1). */
export const ConnectionOpenAnswer = z.strictObject({
  endpoint: z.string().min(1),
  ticket: z.string().min(1),
});
