import { OpenApiErrorCode } from '@dingtalk-skills/sdk/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Platform } from '../../platform/platform.js';
import type { TodoCard } from '../../platform/repos/index.js';
import { Scope } from '../../platform/scopes.js';
import { Failures, OpenApiFailure } from '../failure.js';
import { callerOf, requireSelfUnionId, requireUserToken } from '../guard.js';
import { decodeCursor, encodeCursor, parseOr400 } from '../validate.js';

/** The route whose parse errors answer `todo.taskCreate.paramError`. */
export const TODO_CREATE_PATH = '/v1.0/todo/users/me/personalTasks';

const unionIds = z.array(z.string().min(1).max(64)).max(100);

const createBody = z.object({
  subject: z.string().trim().min(1).max(1024),
  executorIds: unionIds.min(1),
  description: z.string().max(4096).optional(),
  dueTime: z.number().int().nonnegative().optional(),
  participantIds: unionIds.optional(),
  notifyConfigs: z.object({ dingNotify: z.string().optional() }).passthrough().optional(),
  reminderTimeStamp: z.number().int().nonnegative().optional(),
  priority: z.union([z.literal(10), z.literal(20), z.literal(30), z.literal(40)]).optional(),
});

const listBody = z.object({
  isDone: z.boolean().optional(),
  nextToken: z.string().max(256).optional(),
  fromDueTime: z.number().int().nonnegative().optional(),
  toDueTime: z.number().int().nonnegative().optional(),
  // Sandbox addition: page size (1..100, default 20).
  maxResults: z.number().int().min(1).max(100).optional(),
});

/**
 * A to-do as `tasks/list` answers it: only fields of DingTalk's published `todoCards[]` model
 * (no `description`, `executorIds`, `participantIds`: those are on the control API).
 */
export function publishedCard(card: TodoCard) {
  return {
    taskId: card.taskId,
    subject: card.subject,
    ...(card.dueTime === undefined ? {} : { dueTime: card.dueTime }),
    isDone: card.isDone,
    priority: card.priority,
    creatorId: card.creatorId,
    createdTime: card.createdTime,
    modifiedTime: card.modifiedTime,
    bizTag: card.bizTag,
  };
}

/** To-do: create a personal to-do, list the user's to-dos. */
export function registerTodoRoutes(scope: FastifyInstance, platform: Platform): void {
  scope.post(
    TODO_CREATE_PATH,
    {
      onRequest: requireUserToken(platform, {
        scope: Scope.TodoPersonalWrite,
        appTokenFailure: () =>
          new OpenApiFailure(
            400,
            OpenApiErrorCode.TodoTokenTypeError,
            'token类型错误，请使用用户访问凭证 (personal to-dos need a user access token, not an app token)',
          ),
      }),
    },
    async (request) => {
      const caller = callerOf(request);
      const body = parseOr400(createBody, request.body, OpenApiErrorCode.TodoParamError);
      for (const id of [...body.executorIds, ...(body.participantIds ?? [])])
        if (!platform.repos.users.byUnionId(id))
          throw Failures.invalidParameter(
            `executorIds/participantIds: unknown unionId ${id}`,
            OpenApiErrorCode.TodoParamError,
          );
      const card = platform.repos.todos.create(caller.user.unionId, {
        subject: body.subject,
        executorIds: body.executorIds,
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.dueTime === undefined ? {} : { dueTime: body.dueTime }),
        ...(body.participantIds === undefined ? {} : { participantIds: body.participantIds }),
        ...(body.priority === undefined ? {} : { priority: body.priority }),
      });
      platform.logger.info({ userId: caller.user.userId, taskId: card.taskId }, 'to-do created');
      // The published answer holds these two fields only (the whole to-do is on the control API).
      return { taskId: card.taskId, createdTime: card.createdTime };
    },
  );

  scope.post<{ Params: { unionId: string } }>(
    '/v1.0/todo/users/:unionId/tasks/list',
    { onRequest: requireUserToken(platform, { scope: Scope.TodoRead }) },
    async (request) => {
      const caller = callerOf(request);
      requireSelfUnionId(caller, request.params.unionId);
      const body = parseOr400(listBody, request.body);
      const offset = decodeCursor(body.nextToken);
      const limit = body.maxResults ?? 20;
      const page = platform.repos.todos.listFor(caller.user.unionId, {
        ...(body.isDone === undefined ? {} : { isDone: body.isDone }),
        ...(body.fromDueTime === undefined ? {} : { fromDueTime: body.fromDueTime }),
        ...(body.toDueTime === undefined ? {} : { toDueTime: body.toDueTime }),
        offset,
        limit,
      });
      const next = offset + page.items.length;
      return {
        todoCards: page.items.map(publishedCard),
        ...(next < page.total ? { nextToken: encodeCursor(next) } : {}),
        totalCount: page.total,
      };
    },
  );
}
