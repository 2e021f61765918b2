import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import type { Gateway } from '../gateway/gateway.js';
import { controlErrorHandler } from './errors.js';
import { registerGatewayControl } from './gateway-routes.js';

export { ControlError, type ControlErrorBody, controlErrorHandler } from './errors.js';
export { callbackHttpStatus } from './gateway-routes.js';
export { parseInput } from './validate.js';

/** Prefix of every control API path. */
export const CONTROL_PREFIX = '/sandbox';

/** Routes another part of the sandbox adds to the `/sandbox` scope (paths relative to it). */
export type ControlExtension = (scope: FastifyInstance) => Promise<void> | void;

/**
 * The control API under `/sandbox/`: JSON in and out, zod-validated (400 `invalidParameter` naming the
 * field), JSON 404 for unknown paths. Health here, the gateway part in gateway-routes; the platform
 * registers its own control routes (apps, clock, users, grants, faults) in its scope.
 */
export async function registerControlApi(
  app: FastifyInstance,
  ctx: SandboxContext,
  gateway: Gateway,
  extensions: ControlExtension[] = [],
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.setErrorHandler(controlErrorHandler(ctx.logger));
      scope.setNotFoundHandler((req, reply) =>
        reply.code(404).send({ code: 'notFound', message: `no control endpoint ${req.method} ${req.url}` }),
      );

      scope.get('/health', async () => ({
        status: 'ok',
        url: ctx.url(),
        now: ctx.clock.now(),
        clockOffsetMs: ctx.clock.offsetMs,
        gateway: gateway.stats(),
      }));

      await registerGatewayControl(scope, gateway);
      for (const extend of extensions) await extend(scope);
    },
    { prefix: CONTROL_PREFIX },
  );
}
