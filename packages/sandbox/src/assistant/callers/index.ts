import type { SkillCaller } from '../ports.js';
import { callOverHttp } from './http.js';
import { callLegacyPlugin } from './plugin.js';
import { type CallbackSender, callOverStream } from './stream.js';

export { callOverHttp } from './http.js';
export { callLegacyPlugin, type LegacyPluginRef, pluginRequestFor, readPluginAnswer } from './plugin.js';
export { type CallbackSender, callOverStream, graphRequestFor } from './stream.js';

/** The caller the assistant uses: Stream through the gateway, or HTTP to the description's server. */
export function createSkillCaller(gateway: CallbackSender, options: { timeoutMs: number }): SkillCaller {
  return {
    call(request, target) {
      if (target.legacyPlugin !== undefined)
        return callLegacyPlugin(gateway, request, target.legacyPlugin, options.timeoutMs);
      if (target.protocol === 'stream') return callOverStream(gateway, request, options.timeoutMs);
      if (target.serverUrl === undefined)
        return Promise.resolve({
          kind: 'failed',
          code: 'transportError',
          message: 'HTTP action without servers[0].url',
        });
      return callOverHttp(target.serverUrl, request, options.timeoutMs);
    },
  };
}
