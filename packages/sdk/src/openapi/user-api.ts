import { isPlainObject } from '../protocol/json.js';
import { OpenApiError, TransportErrorCode } from './errors.js';
import type { OpenApiCall, OpenApiPipeline } from './pipeline.js';
import type { UserTokenSource } from './token-source.js';
import type {
  AuthRules,
  CalendarEvent,
  ContactUser,
  CreatedTodo,
  CreateEventInput,
  CreateTodoInput,
  EventList,
  ListEventsInput,
  ListTodosInput,
  OwnnessResult,
  SetOwnnessInput,
  TodoList,
} from './types.js';

/**
 * The "me" APIs, called as the user whose token `source` provides. Every method goes through the
 * client's one pipeline (rate limit, token, retry, error mapping) and rejects with an OpenApiError
 * (or what the source's `onAuthFailure` throws, such as AuthorizationRequiredError).
 */
export class UserApi {
  readonly #pipeline: OpenApiPipeline;
  readonly #source: UserTokenSource;

  constructor(pipeline: OpenApiPipeline, source: UserTokenSource) {
    this.#pipeline = pipeline;
    this.#source = source;
  }

  /** The token source behind this API (its `unionId`, when known). */
  get source(): UserTokenSource {
    return this.#source;
  }

  async #call<T>(call: OpenApiCall): Promise<T> {
    const body = await this.#pipeline.send(call, this.#source);
    if (!isPlainObject(body))
      throw new OpenApiError({
        status: 200,
        apiCode: TransportErrorCode.InvalidResponse,
        apiMessage: 'expected a JSON object',
        requestId: '',
        api: `${call.method} ${call.path}`,
        idempotent: call.idempotent ?? call.method !== 'POST',
      });
    return body as T;
  }

  #learnedUnionId: Promise<string> | undefined;

  /** The user's unionId: from the token source, else from `contact.me()` (asked once per UserApi). */
  #ownUnionId(): Promise<string> {
    if (this.#source.unionId) return Promise.resolve(this.#source.unionId);
    this.#learnedUnionId ??= this.contact.me().then((me) => me.unionId);
    this.#learnedUnionId.catch(() => {
      this.#learnedUnionId = undefined;
    });
    return this.#learnedUnionId;
  }

  #unionId(unionId: string): string {
    return unionId === 'me' && this.#source.unionId ? this.#source.unionId : unionId;
  }

  readonly contact = {
    /** `GET /v1.0/contact/users/me`: the authorizing user (scope `Contact.User.Read`). */
    me: (): Promise<ContactUser> => this.#call({ method: 'GET', path: '/v1.0/contact/users/me' }),
  };

  readonly todo = {
    /**
     * `POST /v1.0/todo/users/me/personalTasks` (scope `Todo.PersonalTodo.Write`). `executorIds`
     * defaults to the user's own unionId: the token source's when it knows it, else learned once with
     * `contact.me()` (DingTalk requires executors). Not retried on 5xx (not idempotent).
     */
    create: async (input: CreateTodoInput): Promise<CreatedTodo> => {
      const body: CreateTodoInput = { ...input };
      if (body.executorIds === undefined) body.executorIds = [await this.#ownUnionId()];
      return this.#call({ method: 'POST', path: '/v1.0/todo/users/me/personalTasks', body });
    },
    /**
     * `POST /v1.0/todo/users/{unionId}/tasks/list`. `'me'` stands for the token source's unionId when
     * known. A read, so it is marked idempotent and retried on 5xx.
     */
    list: (unionId: string, input: ListTodosInput = {}): Promise<TodoList> =>
      this.#call({
        method: 'POST',
        path: '/v1.0/todo/users/{unionId}/tasks/list',
        params: { unionId: this.#unionId(unionId) },
        body: input,
        idempotent: true,
      }),
  };

  readonly calendar = {
    /** `POST /v1.0/calendar/users/{unionId}/calendars/primary/events` (scope `Calendar.Event.Write`). */
    createEvent: (unionId: string, input: CreateEventInput): Promise<CalendarEvent> =>
      this.#call({
        method: 'POST',
        path: '/v1.0/calendar/users/{unionId}/calendars/{calendarId}/events',
        params: { unionId: this.#unionId(unionId), calendarId: 'primary' },
        body: input,
      }),
    /** `GET /v1.0/calendar/users/{unionId}/calendars/primary/events` (scope `Calendar.Event.Read`). */
    listEvents: (unionId: string, input: ListEventsInput = {}): Promise<EventList> =>
      this.#call({
        method: 'GET',
        path: '/v1.0/calendar/users/{unionId}/calendars/{calendarId}/events',
        params: { unionId: this.#unionId(unionId), calendarId: 'primary' },
        query: {
          timeMin: isoTime(input.timeMin),
          timeMax: isoTime(input.timeMax),
          maxResults: input.maxResults,
          nextToken: input.nextToken,
        },
      }),
  };

  readonly status = {
    /** `PUT /v1.0/contact/user/{userId}/ownness`: sets (or with `deletedFlag: 1` deletes) a personal status. */
    set: (userId: string, input: SetOwnnessInput): Promise<OwnnessResult> =>
      this.#call({
        method: 'PUT',
        path: '/v1.0/contact/user/{userId}/ownness',
        params: { userId },
        body: input,
      }),
  };

  readonly oauth = {
    /** `GET /v1.0/oauth2/authRules/user`: the scopes the user granted to this app. */
    authRules: (): Promise<AuthRules> => this.#call({ method: 'GET', path: '/v1.0/oauth2/authRules/user' }),
  };
}

function isoTime(value: string | Date | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}
