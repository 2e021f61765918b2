/**
 * The skill of the app suites (`ours-app` and `app-calls`): `createCustomer`, with a zod input and a
 * zod output, no scopes; it echoes `seq`, which the bench gateway checks in every answer.
 */
import { z } from 'zod';
import { defineSkill } from '../../packages/sdk/src/index.js';

export const createCustomer = defineSkill({
  operationId: 'createCustomer',
  summary: 'Create a customer',
  description: 'Creates a CRM customer (benchmark skill: validates its input and output, echoes seq).',
  method: 'POST',
  path: '/v1/actions/crm/customers/create',
  input: z.object({
    name: z.string().min(1).max(100),
    amount: z.number().nonnegative(),
    seq: z.number().int().nonnegative(),
  }),
  output: z.object({ ok: z.boolean(), seq: z.number().int() }),
  handler: (input) => ({ ok: true, seq: input.seq }),
});
