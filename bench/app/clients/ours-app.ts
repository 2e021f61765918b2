/**
 * The whole app path as the README writes it: `startApp` from the SDK's package entry (so the process
 * loads what importing `@dingtalk-skills/sdk` loads), one `defineSkill` with a zod input and a zod output,
 * no scopes, one app middleware, and Prometheus metrics on (`new Metrics()`). Each Graph CALLBACK is
 * decoded, routed by its `x-ability-key`, its body validated, the middleware and handler run, the output
 * validated and the answer rendered as a Graph response echoing `seq` (what the bench gateway checks).
 */
import { defineApp, Metrics, silentLogger, startApp } from '../../../packages/sdk/src/index.js';
import type { StartClient } from '../../stream/clients/types.js';
import { createCustomer } from '../skill.js';

export const start: StartClient = async ({ apiBase, clientId, clientSecret }) => {
  let invocations = 0;
  const app = defineApp({
    name: 'bench app',
    skills: [createCustomer],
    // A typical cross-cutting middleware: count, then go on.
    middleware: [
      async (_state, next) => {
        invocations++;
        await next();
      },
    ],
  });
  const running = await startApp(app, {
    clientId,
    clientSecret,
    apiBase,
    logger: silentLogger(),
    metrics: new Metrics(),
  });
  return {
    stop: async () => {
      await running.stop();
      if (invocations === 0) throw new Error('the middleware never ran');
    },
  };
};
