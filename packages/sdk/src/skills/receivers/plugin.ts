import { type PluginResponse, parsePluginRequest, pluginResponse } from '../../protocol/plugin.js';
import type { ProtocolError } from '../../protocol/protocol-error.js';
import { Topic } from '../../protocol/topics.js';
import { extractAccessToken, type SkillInvocation } from '../invocation.js';
import { outcomeBody, SkillErrorCode, type SkillOutcome } from '../outcome.js';
import type { CallbackReceiver } from './callback-receiver.js';

/**
 * Decodes a legacy AI plugin request (`/v1.0/agi/plugins/callback`):
 * `{abilityKey, data, pluginId, pluginVersion, requestId}`. `data.accessToken` (the user's
 * token, 用户代理凭证) is taken out of the input.
 */
export function decodePluginInvocation(data: string, messageId: string): SkillInvocation {
  const req = parsePluginRequest(data, messageId);
  const body = req.data;
  const accessToken = extractAccessToken(body);
  const inv: SkillInvocation = {
    source: 'plugin',
    requestId: req.requestId,
    abilityKey: req.abilityKey,
    query: {},
    body,
    headers: {},
    pluginId: req.pluginId,
    pluginVersion: req.pluginVersion,
  };
  if (accessToken) inv.accessToken = accessToken;
  return inv;
}

/** Legacy AI plugin answer: `{requestId, result}`, or the failure structure for every non-ok outcome. */
export function toPluginAnswer(
  outcome: SkillOutcome,
  requestId: string,
): PluginResponse | Record<string, unknown> {
  if (outcome.kind === 'ok') return pluginResponse(requestId, outcome.body);
  return outcomeBody(outcome, requestId) as Record<string, unknown>;
}

/** The answer for a plugin request that could not be decoded: 400 with the parser's message. */
export function pluginDecodeFailure(
  err: ProtocolError,
  messageId: string,
): PluginResponse | Record<string, unknown> {
  return toPluginAnswer(
    { kind: 'error', status: 400, code: SkillErrorCode.InvalidParameter, message: err.message },
    messageId,
  );
}

/** The legacy AI plugin receiver (`/v1.0/agi/plugins/callback`). */
export const pluginReceiver: CallbackReceiver<PluginResponse | Record<string, unknown>> = {
  topic: Topic.PluginCallback,
  requestName: 'AI plugin request',
  decode: decodePluginInvocation,
  render: toPluginAnswer,
  decodeFailure: pluginDecodeFailure,
};
