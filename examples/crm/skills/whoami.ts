import { defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

/** Reads the current user's profile with their delegated credential. */
export const whoami = defineSkill({
  operationId: 'whoami',
  summary: '我是谁 Who am I',
  description:
    "Shows the current user's DingTalk profile (name, unionId, email). 查看当前用户的钉钉个人信息。",
  method: 'GET',
  path: '/v1/actions/crm/me',
  input: z.object({}),
  output: z.object({ name: z.string(), unionId: z.string(), email: z.string(), avatarUrl: z.string() }),
  scopes: ['Contact.User.Read'],
  handler: async (_input, ctx) => {
    const me = await ctx.userApi.contact.me();
    return { name: me.nick, unionId: me.unionId, email: me.email ?? '', avatarUrl: me.avatarUrl ?? '' };
  },
});
