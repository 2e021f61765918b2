import { defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

/** Creates a personal to-do as the user. */
export const createTodo = defineSkill({
  operationId: 'createTodo',
  summary: '创建待办 Create a to-do',
  description: 'Creates a personal to-do for the current user. 为当前用户创建一条个人待办。',
  method: 'POST',
  path: '/v1/actions/crm/todos',
  input: z.object({
    subject: z.string().min(1).max(256).describe('待办标题 To-do subject'),
    description: z.string().max(4096).optional().describe('描述 Description'),
    dueTime: z.number().int().positive().optional().describe('截止时间 Due time (epoch ms)'),
  }),
  output: z.object({ taskId: z.string(), subject: z.string(), createdTime: z.number() }),
  scopes: ['Todo.PersonalTodo.Write'],
  // DingTalk sends an unanswered CALLBACK again (within about 60 s): a slow to-do API or a dropped
  // connection would otherwise create the to-do twice. A redelivery (same ctx.invocationKey) gets the
  // first run's answer without running the handler again.
  idempotent: true,
  handler: async (input, ctx) => {
    ctx.logger.debug({ invocationKey: ctx.invocationKey }, 'creating a to-do');
    const created = await ctx.userApi.todo.create(input);
    return { taskId: created.taskId, subject: input.subject, createdTime: created.createdTime };
  },
});

/** Lists the user's to-dos. */
export const listMyTodos = defineSkill({
  operationId: 'listMyTodos',
  summary: '我的待办 List my to-dos',
  description: "Lists the current user's to-dos, open ones by default. 列出当前用户的待办。",
  method: 'GET',
  path: '/v1/actions/crm/todos',
  input: z.object({ isDone: z.boolean().default(false).describe('已完成 Done ones instead of open ones') }),
  output: z.object({ total: z.number(), subjects: z.string(), items: z.array(z.string()) }),
  scopes: ['Todo.Todo.Read'],
  handler: async (input, ctx) => {
    const page = await ctx.userApi.todo.list(ctx.user.unionId ?? 'me', { isDone: input.isDone });
    const items: string[] = page.todoCards.map((t: { subject: string }) => t.subject);
    return { total: page.totalCount ?? items.length, subjects: items.join('；'), items };
  },
});
