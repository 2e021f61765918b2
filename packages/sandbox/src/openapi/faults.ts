import { setTimeout as sleep } from 'node:timers/promises';
import { OpenApiErrorCode } from '@dingtalk-skills/sdk/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FaultStatus } from '../platform/faults.js';
import type { Platform } from '../platform/platform.js';
import { OpenApiFailure } from './failure.js';
import { pathOf } from './reply.js';

/** Default code and message of an injected failure per status ([guess] beyond 500). */
const FAULT_BODIES: Record<FaultStatus, { code: string; message: string }> = {
  500: { code: OpenApiErrorCode.SystemError, message: '系统错误 (injected fault: internal error)' },
  502: { code: 'BadGateway', message: '网关错误 (injected fault: bad gateway)' },
  503: { code: 'ServiceUnavailable', message: '服务暂不可用 (injected fault: service unavailable)' },
  504: { code: 'GatewayTimeout', message: '网关超时 (injected fault: gateway timeout, 3 s)' },
};

/** `onRequest` hook: applies an injected fault (delay, then maybe fail) before anything else. */
export function faultHook(platform: Platform) {
  return async function applyFault(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const fault = platform.faults.take(pathOf(request));
    if (!fault) return;
    platform.logger.debug(
      { path: pathOf(request), fault: fault.id, mode: fault.mode },
      'injected OpenAPI fault',
    );
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.mode === 'status' && fault.status !== undefined) {
      const body = FAULT_BODIES[fault.status];
      throw new OpenApiFailure(fault.status, fault.code ?? body.code, body.message);
    }
  };
}
