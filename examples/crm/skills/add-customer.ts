import { defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';
import { recordCustomer } from '../customers.js';

/** The seed's ability: records a customer and creates a follow-up to-do as the user. */
export const addCustomer = defineSkill({
  operationId: 'addCustomer',
  summary: '添加客户 Add a customer',
  description:
    'Records a new customer in the CRM and creates a follow-up to-do for the current user. 录入新客户，并为当前用户创建跟进待办。',
  method: 'POST',
  path: '/v1/actions/crm/customers',
  abilityKey: 'addCustomer',
  input: z.object({
    customName: z.string().min(1).max(200).describe('客户名称 Customer name'),
    owner: z.string().min(1).max(64).describe('负责人 userId (owner)'),
    ambition: z.enum(['高', '中', '低']).describe('意向 Purchase intent: 高/中/低'),
  }),
  output: z.object({
    customerId: z.string(),
    customName: z.string(),
    followUpTaskId: z.string(),
    message: z.string(),
  }),
  scopes: ['Todo.PersonalTodo.Write'],
  handler: async (input, ctx) => {
    const todo = await ctx.userApi.todo.create({
      subject: `跟进客户 Follow up: ${input.customName}`,
      description: `意向 ${input.ambition}，负责人 ${input.owner}`,
    });
    const customer = recordCustomer({ ...input, createdBy: ctx.user.userId, followUpTaskId: todo.taskId });
    return {
      customerId: customer.id,
      customName: customer.customName,
      followUpTaskId: todo.taskId,
      message: `已添加客户「${customer.customName}」并创建跟进待办 Customer added, follow-up to-do created`,
    };
  },
});
