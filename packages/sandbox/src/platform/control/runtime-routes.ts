import type { FastifyInstance } from 'fastify';
import { ControlError } from '../../control/errors.js';
import { parseInput } from '../../control/validate.js';
import type { Platform } from '../platform.js';
import { schemas } from './schemas.js';

/** The platform at run time: the clock, OpenAPI faults and QPS limits, reset. */
export function registerRuntimeRoutes(scope: FastifyInstance, platform: Platform): void {
  const log = platform.logger.child({ component: 'control' });

  scope.get('/sandbox/clock', async () => ({
    now: platform.clock.now(),
    offsetMs: platform.clock.offsetMs,
  }));
  scope.post('/sandbox/clock/advance', async (request) => {
    const { ms } = parseInput(schemas.advance, request.body);
    const now = platform.clock.advance(ms);
    log.info({ ms, offsetMs: platform.clock.offsetMs }, 'sandbox clock advanced');
    return { now, offsetMs: platform.clock.offsetMs };
  });
  scope.get('/sandbox/faults/openapi', async () => ({ faults: platform.faults.list() }));

  scope.post('/sandbox/faults/openapi', async (request) => {
    const body = parseInput(schemas.fault, request.body);
    if (body.mode === 'status' && body.status === undefined)
      throw ControlError.invalid('status: required when mode is status', 'status');
    const faults = platform.faults.apply({
      mode: body.mode,
      ...(body.path === undefined ? {} : { path: body.path }),
      ...(body.delayMs === undefined ? {} : { delayMs: body.delayMs }),
      ...(body.status === undefined ? {} : { status: body.status }),
      ...(body.code === undefined ? {} : { code: body.code }),
      ...(body.times === undefined ? {} : { times: body.times }),
    });
    log.info({ mode: body.mode, path: body.path ?? '*' }, 'OpenAPI fault rules changed');
    return { faults };
  });

  scope.get('/sandbox/limits/openapi', async () => ({ qpsLimit: platform.qps.limit }));

  scope.post('/sandbox/limits/openapi', async (request) => {
    const { qpsLimit } = parseInput(schemas.limits, request.body);
    platform.qps.limit = qpsLimit;
    return { qpsLimit };
  });

  scope.post('/sandbox/reset', async () => {
    platform.reset();
    return { reset: true, now: platform.clock.now() };
  });
}
