import type { FastifyInstance } from 'fastify';
import { ControlError, controlErrorHandler } from '../../control/errors.js';
import { useLenientJson } from '../json-body.js';
import type { Platform } from '../platform.js';
import { registerAppRoutes } from './apps-routes.js';
import { registerRuntimeRoutes } from './runtime-routes.js';
import { registerUserRoutes } from './users-routes.js';

/**
 * The platform's control API under `/sandbox/` (JSON; 400 `{code: 'invalidParameter', message,
 * field}` naming the field; 404 `notFound` for unknown users and apps), answered by the one control
 * API error handler. See the sandbox README, "Platform control API". A route file per concern: users
 * and grants, apps and consent, the platform at run time.
 */
export async function registerPlatformControl(scope: FastifyInstance, platform: Platform): Promise<void> {
  useLenientJson(scope, (message) => ControlError.invalid(message, 'body'));
  scope.setErrorHandler(controlErrorHandler(platform.logger.child({ component: 'control' })));
  registerUserRoutes(scope, platform);
  registerAppRoutes(scope, platform);
  registerRuntimeRoutes(scope, platform);
}
