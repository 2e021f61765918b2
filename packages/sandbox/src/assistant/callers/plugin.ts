import { isPlainObject, type JsonObject, Topic } from '@dingtalk-skills/sdk/protocol';
import type { SkillCallResult, SkillRequest } from '../ports.js';
import type { CallbackSender } from './stream.js';

/** A legacy AI plugin (AI 插件, 2023) as registered in the sandbox: its id and version. */
export interface LegacyPluginRef {
  pluginId: string;
  pluginVersion: string;
}

/** The `data` of the legacy plugin CALLBACK: `{abilityKey, data: {...input, accessToken?}, pluginId, pluginVersion, requestId}`. */
export function pluginRequestFor(request: SkillRequest, plugin: LegacyPluginRef): JsonObject {
  return {
    abilityKey: request.operationId,
    data: (request.pluginData ?? {}) as JsonObject,
    pluginId: plugin.pluginId,
    pluginVersion: plugin.pluginVersion,
    requestId: request.requestId,
  };
}

const AUTH_STATUS: Record<string, number> = {
  InvalidAuthentication: 400,
  'Forbidden.AccessDenied.AccessTokenPermissionDenied': 403,
};

/**
 * Reads the plugin's answer: `{requestId, result}` is a 200 with `result` as the body; the seed's
 * failure structure `{success:false, code, requestId}` keeps its body with the status of the
 * OpenAPI error it passes on (400 InvalidAuthentication, 403 permission, else 500).
 */
export function readPluginAnswer(response: unknown): SkillCallResult {
  if (!isPlainObject(response))
    return {
      kind: 'failed',
      code: 'badResponse',
      message: 'the plugin answer is not an object ({requestId, result} or {success:false, code, requestId})',
    };
  if (response.success === false) {
    const code = typeof response.code === 'string' ? response.code : '';
    return { kind: 'answered', status: AUTH_STATUS[code] ?? 500, body: response };
  }
  if ('result' in response) return { kind: 'answered', status: 200, body: response.result ?? null };
  return {
    kind: 'failed',
    code: 'badResponse',
    message: 'the plugin answer has neither result nor success:false',
  };
}

/** Calls a legacy plugin ability: a CALLBACK on `/v1.0/agi/plugins/callback`; the ack's `response` is the plugin's answer. */
export async function callLegacyPlugin(
  gateway: CallbackSender,
  request: SkillRequest,
  plugin: LegacyPluginRef,
  timeoutMs?: number,
): Promise<SkillCallResult> {
  const result = await gateway.invokeCallback({
    clientId: request.clientId,
    topic: Topic.PluginCallback,
    data: pluginRequestFor(request, plugin),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  if (result.status === 'timeout')
    return { kind: 'failed', code: 'timeout', message: `no answer within ${result.timeoutMs} ms` };
  if (result.status === 'error') return { kind: 'failed', code: result.code, message: result.message };
  return readPluginAnswer(result.response);
}
