import { openApiError } from '@dingtalk-skills/sdk/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newRequestId, newTraceId } from '../platform/ids.js';
import type { OpenApiFailure } from './failure.js';

/** DingTalk's JSON content type on the OpenAPI (no space before charset). */
export const OPENAPI_CONTENT_TYPE = 'application/json;charset=utf-8';

const requestIds = new WeakMap<FastifyRequest, string>();

/** Gives the request DingTalk's ids and headers (`x-acs-request-id`, `x-acs-trace-id`). */
export function stampOpenApiReply(request: FastifyRequest, reply: FastifyReply): void {
  const id = newRequestId();
  requestIds.set(request, id);
  reply.header('content-type', OPENAPI_CONTENT_TYPE);
  reply.header('x-acs-request-id', id);
  reply.header('x-acs-trace-id', newTraceId());
}

/** The request id the reply carries (made on demand for requests that skipped the hook). */
export function requestIdOf(request: FastifyRequest): string {
  let id = requestIds.get(request);
  if (id === undefined) {
    id = newRequestId();
    requestIds.set(request, id);
  }
  return id;
}

/** Sends DingTalk's error envelope for a failure. */
export function sendFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  failure: OpenApiFailure,
): FastifyReply {
  return reply
    .code(failure.status)
    .header('content-type', OPENAPI_CONTENT_TYPE)
    .header('x-acs-request-id', requestIdOf(request))
    .send(openApiError(failure.code, failure.message, requestIdOf(request), failure.requiredScopes));
}

/** The request path without its query string (query strings may hold secrets: never log them). */
export function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q === -1 ? request.url : request.url.slice(0, q);
}
