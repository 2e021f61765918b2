import { isPlainObject, type JsonObject, parseJsonObject, requireJsonDepth } from './json.js';
import { ProtocolError } from './protocol-error.js';

/** The legacy AI plugin request (topic `/v1.0/agi/plugins/callback`). */
export interface PluginRequest {
  abilityKey: string;
  /** The ability's parameters; may hold the user's `accessToken` (用户代理凭证). */
  data: JsonObject;
  pluginId: string;
  pluginVersion: string;
  requestId: string;
}

/** The plain answer to a legacy AI plugin request. */
export interface PluginResponse {
  requestId: string;
  result: unknown;
}

function str(
  doc: Record<string, unknown>,
  key: string,
  messageId: string | undefined,
  required: boolean,
): string {
  const v = doc[key];
  if (typeof v === 'string' && (v !== '' || !required)) return v;
  if (!required && (v === undefined || v === null)) return '';
  throw new ProtocolError(`data.${key}`, required ? 'a non-empty string' : 'a string', v, messageId);
}

export function parsePluginRequest(data: string, messageId?: string): PluginRequest {
  const doc = parseJsonObject(data, 'data', messageId);
  const abilityKey = str(doc, 'abilityKey', messageId, true);
  const requestId = str(doc, 'requestId', messageId, true);
  let payload = doc.data;
  if (payload === undefined || payload === null) payload = {};
  else if (typeof payload === 'string')
    payload = payload.trim() === '' ? {} : parseJsonObject(payload, 'data.data', messageId);
  if (!isPlainObject(payload)) throw new ProtocolError('data.data', 'an object', payload, messageId);
  requireJsonDepth(payload, 'data.data', messageId);
  return {
    abilityKey,
    data: payload as JsonObject,
    pluginId: str(doc, 'pluginId', messageId, false),
    pluginVersion: str(doc, 'pluginVersion', messageId, false),
    requestId,
  };
}

export function serializePluginRequest(req: PluginRequest): string {
  return JSON.stringify(req);
}

export function pluginResponse(requestId: string, result: unknown): PluginResponse {
  return { requestId, result: result === undefined ? null : result };
}
