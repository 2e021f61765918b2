import { parsePluginRequest } from '../../protocol/plugin.js';
import { extractAccessToken, type SkillInvocation } from '../invocation.js';

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
