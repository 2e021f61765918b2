import { type GraphRequest, ProtocolError, parseGraphResponse, Topic } from '@dingtalk-skills/sdk/protocol';
import type { CallbackInvocation, CallbackResult } from '../../gateway/callbacks.js';
import type { SkillCallResult, SkillRequest } from '../ports.js';
import { readAnswerBody } from './body.js';

/** The part of the gateway the Stream caller needs (`Gateway` satisfies it). */
export interface CallbackSender {
  invokeCallback(input: CallbackInvocation): Promise<CallbackResult>;
}

/** The `data` of the Graph API CALLBACK for one call. */
export function graphRequestFor(request: SkillRequest): GraphRequest {
  return {
    requestLine: { method: request.method, uri: request.uri },
    headers: {
      'content-type': 'application/json',
      'x-ability-key': request.operationId,
      'x-request-id': request.requestId,
    },
    body: JSON.stringify(request.body ?? {}),
  };
}

/**
 * Calls an action over the app's Stream connection: a CALLBACK on `/v1.0/graph/api/invoke` whose
 * data is the HTTP request in JSON; the ack's `response` is the Graph response.
 */
export async function callOverStream(
  gateway: CallbackSender,
  request: SkillRequest,
  timeoutMs?: number,
): Promise<SkillCallResult> {
  const result = await gateway.invokeCallback({
    clientId: request.clientId,
    topic: Topic.GraphInvoke,
    data: graphRequestFor(request),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  if (result.status === 'timeout')
    return { kind: 'failed', code: 'timeout', message: `no answer within ${result.timeoutMs} ms` };
  if (result.status === 'error') return { kind: 'failed', code: result.code, message: result.message };
  try {
    const response = parseGraphResponse(result.response);
    return { kind: 'answered', status: response.statusLine.code, body: readAnswerBody(response.body) };
  } catch (err) {
    if (err instanceof ProtocolError)
      return {
        kind: 'failed',
        code: 'badResponse',
        message: `the ack's response is not a Graph response: ${err.message}`,
      };
    throw err;
  }
}
