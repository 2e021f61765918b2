import {
  decodeRequestUri,
  type GraphResponse,
  graphJsonResponse,
  parseGraphBody,
  parseGraphRequest,
} from '../../protocol/graph.js';
import type { ProtocolError } from '../../protocol/protocol-error.js';
import { Topic } from '../../protocol/topics.js';
import { extractAccessToken, type SkillInvocation } from '../invocation.js';
import { outcomeBody, outcomeStatus, SkillErrorCode, type SkillOutcome } from '../outcome.js';
import type { CallbackReceiver } from './callback-receiver.js';

/**
 * Decodes the `data` of a `/v1.0/graph/api/invoke` CALLBACK into the invocation envelope.
 * Routing: `x-ability-key` when present, else method + path. The request id is the `x-request-id`
 * header when the platform sends one, else the frame's messageId.
 */
export function decodeGraphInvocation(data: string, messageId: string): SkillInvocation {
  const req = parseGraphRequest(data, messageId);
  const { path, segments, query } = decodeRequestUri(req.requestLine.uri, messageId);
  const body = parseGraphBody(req.body, messageId);
  const accessToken = extractAccessToken(body);
  const inv: SkillInvocation = {
    source: 'graph',
    requestId: req.headers['x-request-id'] || req.headers['x-acs-request-id'] || messageId,
    method: req.requestLine.method,
    path,
    segments,
    query,
    body,
    headers: req.headers,
  };
  const ability = req.headers['x-ability-key'];
  if (ability) inv.abilityKey = ability;
  if (accessToken) inv.accessToken = accessToken;
  if (req.headers['x-plugin-id']) inv.pluginId = req.headers['x-plugin-id'];
  if (req.headers['x-plugin-version']) inv.pluginVersion = req.headers['x-plugin-version'];
  return inv;
}

/** The answer for a Graph request that could not be decoded: 400 naming the field. */
export function graphDecodeFailure(err: ProtocolError, requestId: string): GraphResponse {
  const outcome: SkillOutcome = {
    kind: 'error',
    status: 400,
    code: SkillErrorCode.InvalidParameter,
    message: err.message,
    fields: [{ field: err.field, message: `expected ${err.expected}` }],
  };
  return toGraphResponse(outcome, requestId);
}

/**
 * Graph API answer. Authorization: status 400 (InvalidAuthentication) or 403 (permission) with
 * `{success:false, code, requestId}` as the JSON body: the public material shows no Graph form, this is
 * our documented choice (docs/decisions.md, "Answers to the platform").
 */
export function toGraphResponse(outcome: SkillOutcome, requestId: string): GraphResponse {
  return graphJsonResponse(outcomeStatus(outcome), outcomeBody(outcome, requestId));
}

/** The Graph API receiver (`/v1.0/graph/api/invoke`). */
export const graphReceiver: CallbackReceiver<GraphResponse> = {
  topic: Topic.GraphInvoke,
  requestName: 'Graph API request',
  decode: decodeGraphInvocation,
  render: toGraphResponse,
  decodeFailure: graphDecodeFailure,
};
