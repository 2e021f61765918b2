import { defineSkill, InvalidInputError } from '@dingtalk-skills/sdk';
import { z } from 'zod';

const KINDS = { leave: 1, trip: 3 } as const;

/** Sets the user's personal status (个人状态): on leave or on a business trip. */
export const setMyStatus = defineSkill({
  operationId: 'setMyStatus',
  summary: '设置个人状态 Set my status',
  description:
    'Sets the current user\'s personal status to "on leave" or "on a business trip" for some hours. 设置请假或出差状态。',
  method: 'POST',
  path: '/v1/actions/crm/status',
  input: z.object({
    kind: z.enum(['leave', 'trip']).describe('状态 leave 请假 / trip 出差'),
    hours: z.number().int().min(1).max(720).default(8).describe('持续小时数 Duration in hours'),
  }),
  output: z.object({ status: z.string(), until: z.string() }),
  scopes: ['Contact.User.Ownness.Write'],
  handler: async (input, ctx) => {
    const userId = ctx.user.userId;
    if (!userId)
      throw new InvalidInputError([{ field: 'userId', message: 'the assistant sent no current user' }]);
    const start = Date.now();
    const end = start + input.hours * 3_600_000;
    await ctx.userApi.status.set(userId, {
      ownenssType: KINDS[input.kind],
      startTime: start,
      endTime: end,
    });
    return {
      status: input.kind === 'leave' ? '请假 On leave' : '出差 Business trip',
      until: new Date(end).toISOString(),
    };
  },
});
