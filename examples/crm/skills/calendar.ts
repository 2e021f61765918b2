import { defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

/** Lists the user's calendar events on their primary calendar. */
export const listMyEvents = defineSkill({
  operationId: 'listMyEvents',
  summary: '我的日程 List my events',
  description: "Lists the current user's upcoming calendar events. 列出当前用户的日程。",
  method: 'GET',
  path: '/v1/actions/crm/events',
  input: z.object({
    days: z.number().int().min(1).max(90).default(7).describe('未来几天 How many days ahead'),
  }),
  output: z.object({ total: z.number(), summaries: z.string(), items: z.array(z.string()) }),
  scopes: ['Calendar.Event.Read'],
  handler: async (input, ctx) => {
    const now = Date.now();
    const page = await ctx.userApi.calendar.listEvents(ctx.user.unionId ?? 'me', {
      timeMin: new Date(now - 86_400_000).toISOString(),
      timeMax: new Date(now + input.days * 86_400_000).toISOString(),
      maxResults: 50,
    });
    const items: string[] = page.events.map((e: { summary: string }) => e.summary);
    return { total: items.length, summaries: items.join('；'), items };
  },
});
