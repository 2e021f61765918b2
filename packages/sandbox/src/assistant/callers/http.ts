import { toError } from '@dingtalk-skills/sdk/internal';
import { trimTrailingSlashes } from '@dingtalk-skills/sdk/protocol';
import type { SkillCallResult, SkillRequest } from '../ports.js';
import { readAnswerBody } from './body.js';

/** Calls an action over HTTP: `servers[0].url` + path + query, JSON body, real fetch. */
export async function callOverHttp(
  serverUrl: string,
  request: SkillRequest,
  timeoutMs: number,
): Promise<SkillCallResult> {
  const url = `${trimTrailingSlashes(serverUrl)}${request.uri}`;
  const headers: Record<string, string> = {
    accept: 'application/json',
    'x-ability-key': request.operationId,
    'x-request-id': request.requestId,
  };
  const init: RequestInit = { method: request.method, headers, signal: AbortSignal.timeout(timeoutMs) };
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(request.body);
  }
  try {
    const res = await fetch(url, init);
    return { kind: 'answered', status: res.status, body: readAnswerBody(await res.text()) };
  } catch (thrown) {
    const err = toError(thrown);
    if (err.name === 'TimeoutError')
      return { kind: 'failed', code: 'timeout', message: `no answer within ${timeoutMs} ms` };
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { kind: 'failed', code: 'network', message: `${err.message}${cause}` };
  }
}
