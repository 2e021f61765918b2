/**
 * Ours with the skills framework: the app runtime (`createAppRuntime`: StreamClient + SkillsApp, the
 * OpenAPI client and token manager built but unused) serving one trivial skill. Each Graph CALLBACK is
 * decoded, routed by its `x-ability-key`, its JSON body validated by the skill's zod input, the handler
 * run under its deadline, and the answer rendered as a Graph response whose body echoes `seq` (what the
 * bench gateway checks). The SDK is bundled from its TypeScript source.
 */
import { z } from 'zod';
import { createAppRuntime, defineApp } from '../../../packages/sdk/src/app/index.js';
import { silentLogger } from '../../../packages/sdk/src/logging/index.js';
import { defineSkill } from '../../../packages/sdk/src/skills/index.js';
import type { StartClient } from '../../stream/clients/types.js';

/** Answers the stream workload's request (`POST /v1/actions/crm/customers/create`, ability `createCustomer`). */
const createCustomer = defineSkill({
  operationId: 'createCustomer',
  summary: 'Create a customer',
  description: 'Creates a CRM customer (benchmark skill: validates its input and echoes seq).',
  method: 'POST',
  path: '/v1/actions/crm/customers/create',
  input: z.object({
    name: z.string().min(1).max(100),
    amount: z.number().nonnegative(),
    seq: z.number().int().nonnegative(),
  }),
  handler: (input) => ({ ok: true, seq: input.seq }),
});

export const start: StartClient = async ({ apiBase, clientId, clientSecret }) => {
  const app = defineApp({ name: 'bench skills', skills: [createCustomer] });
  const runtime = createAppRuntime(app, { clientId, clientSecret, apiBase, logger: silentLogger() });
  await runtime.stream.start();
  return {
    stop: async () => {
      await runtime.stream.stop();
      await runtime.openapi.close();
    },
  };
};
