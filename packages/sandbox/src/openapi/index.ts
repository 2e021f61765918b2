import { OpenApiErrorCode } from '@dingtalk-skills/sdk';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { registerCardRoutes } from '../cards/card-routes.js';
import { useLenientJson } from '../platform/json-body.js';
import type { Platform } from '../platform/platform.js';
import { Failures, OpenApiFailure } from './failure.js';
import { faultHook } from './faults.js';
import { pathOf, sendFailure, stampOpenApiReply } from './reply.js';
import { registerCalendarRoutes } from './routes/calendar.js';
import { registerContactRoutes } from './routes/contact.js';
import { registerLegacyRoutes } from './routes/legacy.js';
import { registerOAuth2Routes } from './routes/oauth2.js';
import { registerTodoRoutes, TODO_CREATE_PATH } from './routes/todo.js';

/** The param-error code of a route: to-do create has its own, the rest use `InvalidParameter`. */
function paramErrorCode(request: FastifyRequest): string {
  return request.routeOptions.url === TODO_CREATE_PATH
    ? OpenApiErrorCode.TodoParamError
    : OpenApiErrorCode.InvalidParameter;
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as FastifyError).code === 'string';
}

/**
 * Registers the emulated `api.dingtalk.com` (`/v1.0/...`) and `oapi.dingtalk.com/gettoken` on an
 * encapsulated Fastify scope: its own JSON parser (an empty body reads as `{}`), DingTalk's headers,
 * injected faults, the error envelope, and 404 `InvalidAction.NotFound` for unknown `/v1.0/*` paths.
 */
export async function registerOpenApi(scope: FastifyInstance, platform: Platform): Promise<void> {
  const log = platform.logger.child({ component: 'openapi' });

  useLenientJson(scope, (message) => Failures.invalidParameter(message));

  scope.addHook('onRequest', async (request, reply) => stampOpenApiReply(request, reply));
  scope.addHook('onRequest', faultHook(platform));

  scope.setErrorHandler((err, request, reply) => {
    let failure: OpenApiFailure;
    if (err instanceof OpenApiFailure) {
      failure =
        err.code === OpenApiErrorCode.InvalidParameter
          ? new OpenApiFailure(err.status, paramErrorCode(request), err.message)
          : err;
    } else if (isFastifyError(err) && err.statusCode !== undefined && err.statusCode < 500) {
      failure = Failures.invalidParameter(`body: ${err.message}`, paramErrorCode(request));
    } else {
      log.error({ err, path: pathOf(request), method: request.method }, 'OpenAPI handler failed');
      failure = new OpenApiFailure(500, OpenApiErrorCode.SystemError, '系统错误 (sandbox internal error)');
    }
    const level = failure.status >= 500 ? 'warn' : 'info';
    log[level](
      { method: request.method, path: pathOf(request), status: failure.status, code: failure.code },
      'OpenAPI error answered',
    );
    return sendFailure(request, reply, failure);
  });

  registerOAuth2Routes(scope, platform);
  registerLegacyRoutes(scope, platform);
  registerContactRoutes(scope, platform);
  registerTodoRoutes(scope, platform);
  registerCalendarRoutes(scope, platform);
  registerCardRoutes(scope, platform);

  scope.all('/v1.0/*', async () => {
    throw Failures.notFoundApi();
  });
}
