import type {
  AuthRules,
  CalendarEvent,
  ContactUser,
  CreatedTodo,
  EventList,
  OwnnessResult,
  TodoCard,
  TodoList,
} from '@dingtalk-skills/sdk/openapi';
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type * as M from './models.js';

/**
 * The SDK's typed user API (`ctx.userApi`) answers with DingTalk's published models and nothing more:
 * the keys of each answer type are exactly the keys of the strict model the contract tests decode
 * with (no index signature that would let a skill read a field DingTalk does not send), and the
 * fields whose JSON type surprises (string, not boolean/number) are typed as strings. These checks
 * run in `npm run typecheck` (tsc over the tests); the `it` bodies make them visible in vitest too.
 */

type Keys<T> = keyof T;
type Model<S extends z.ZodType> = z.output<S>;

describe('the SDK user API types follow the published models', () => {
  it('contact.me(): GetUserResponseBody', () => {
    expectTypeOf<Keys<ContactUser>>().toEqualTypeOf<Keys<Model<typeof M.ContactUser>>>();
    expectTypeOf<ContactUser['visitor']>().toEqualTypeOf<boolean | undefined>();
  });

  it('todo.create(): {taskId, createdTime} only', () => {
    expectTypeOf<Keys<CreatedTodo>>().toEqualTypeOf<Keys<Model<typeof M.CreatedPersonalTodo>>>();
  });

  it('todo.list(): cards without description, executorIds, participantIds', () => {
    expectTypeOf<Keys<TodoList>>().toEqualTypeOf<Keys<Model<typeof M.TodoList>>>();
    expectTypeOf<Keys<TodoCard>>().toEqualTypeOf<Keys<Model<typeof M.TodoCard>>>();
    // @ts-expect-error DingTalk's to-do list cards carry no executorIds
    expectTypeOf<TodoCard['executorIds']>().toBeUnknown();
  });

  it('calendar: events with reminders[].minutes as a string', () => {
    expectTypeOf<Keys<CalendarEvent>>().toEqualTypeOf<Keys<Model<typeof M.CalendarEvent>>>();
    expectTypeOf<Keys<EventList>>().toEqualTypeOf<Keys<Model<typeof M.EventList>>>();
    expectTypeOf<NonNullable<CalendarEvent['reminders']>[number]['minutes']>().toEqualTypeOf<
      string | undefined
    >();
  });

  it('status.set(): result is a string', () => {
    expectTypeOf<OwnnessResult>().toEqualTypeOf<Model<typeof M.OwnnessAnswer>>();
  });

  it('oauth.authRules()', () => {
    expectTypeOf<AuthRules>().toEqualTypeOf<Model<typeof M.AuthRules>>();
  });
});
