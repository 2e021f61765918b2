import { randomUUID } from 'node:crypto';
import type { Logger } from '@dingtalk-skills/sdk';
import { toError } from '@dingtalk-skills/sdk/internal';
import type { SkillCallResult } from '../ports.js';
import type { AssistantDeps, RunState } from './invocation.js';
import { buildRequest } from './request.js';

/**
 * Calls the skill once for a run: issues the session webhook, builds the request from the checked
 * values (with `oauthAuthCode` right after consent), and for a legacy AI plugin puts the user's
 * access token in its data. Never throws: a throwing caller becomes a `transportError` failure.
 */
export async function callSkill(
  deps: AssistantDeps,
  log: Logger,
  run: RunState,
  authCode: string | undefined,
): Promise<SkillCallResult> {
  const { action, skills } = run.found;
  const { clientId } = skills;
  const webhook = deps.sessionWebhooks?.issue({
    conversationId: run.conversation.id,
    invocationId: run.id,
    clientId,
    userId: run.user.userId,
  });
  if (webhook) run.conversation.sessionWebhook = { url: webhook.url, expiresAt: webhook.expiresAt };
  const built = buildRequest(action, run.values, {
    user: run.user,
    conversationId: run.conversation.id,
    conversationToken: run.conversation.conversationToken,
    inputAttribute: JSON.stringify({ inputType: run.text !== undefined ? 'text' : 'form' }),
    ...(webhook ? { sessionWebhook: webhook.url } : {}),
    ...(authCode !== undefined ? { authCode } : {}),
    ...(run.text !== undefined ? { text: run.text } : {}),
  });
  const requestId = randomUUID();
  let pluginData: Record<string, unknown> | undefined;
  if (skills.legacyPlugin !== undefined) {
    // "需要token": the user's access token rides in data (fresh from the code right after consent).
    const accessToken = deps.authorization.pluginAccessToken(run.user.userId, clientId, authCode);
    pluginData = { ...run.values, ...(accessToken !== undefined ? { accessToken } : {}) };
  }
  run.summary.skillCalls++;
  try {
    return await deps.caller.call(
      {
        clientId,
        operationId: action.operationId,
        method: built.method,
        uri: built.uri,
        body: built.body,
        requestId,
        ...(pluginData !== undefined ? { pluginData } : {}),
      },
      {
        protocol: skills.document.protocol,
        ...(skills.legacyPlugin !== undefined ? { legacyPlugin: skills.legacyPlugin } : {}),
        ...(skills.document.serverUrl !== undefined ? { serverUrl: skills.document.serverUrl } : {}),
      },
    );
  } catch (err) {
    log.error({ invocationId: run.id, err: toError(err) }, 'skill call threw');
    return { kind: 'failed', code: 'transportError', message: toError(err).message };
  }
}
