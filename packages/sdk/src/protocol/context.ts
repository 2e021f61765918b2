/**
 * The `x-dingtalk-context` vocabulary: what the AI assistant fills in itself on a call (the current
 * user, organisation, input, conversation), never the user or the model. The SDK's skills declare
 * them; the sandbox's registration check accepts only these pairs, as DingTalk documents them for AI
 * assistant actions.
 */

/** Every `x-dingtalk-context` property with the formats the assistant knows for it. */
export const CONTEXT_FORMATS: Readonly<Record<string, readonly string[]>> = {
  currentUser: ['userId', 'unionId', 'jobNum', 'oauthAuthCode'],
  currentOrg: ['corpId'],
  currentInput: ['raw', 'attribute'],
  currentConversation: ['openConversationId', 'conversationToken', 'sessionWebhook'],
};

/** True when the assistant can fill this `x-dingtalk-context` pair. */
export function isKnownContext(property: string, format: string): boolean {
  return CONTEXT_FORMATS[property]?.includes(format) ?? false;
}

/**
 * The context parameters a skill can ask for. Each one becomes a query parameter of that name in the
 * generated spec and reaches the handler through `ctx.user` / `ctx.corpId`, never through its input.
 */
export type ContextParam = 'userId' | 'unionId' | 'corpId' | 'oauthAuthCode' | 'jobNum';

/** What `x-dingtalk-context` says for each context parameter. */
export const CONTEXT_PARAMS: Record<ContextParam, { property: string; format: string; description: string }> =
  {
    userId: { property: 'currentUser', format: 'userId', description: '当前用户 userId (current user)' },
    unionId: { property: 'currentUser', format: 'unionId', description: '当前用户 unionId (current user)' },
    jobNum: { property: 'currentUser', format: 'jobNum', description: '当前用户工号 (job number)' },
    oauthAuthCode: {
      property: 'currentUser',
      format: 'oauthAuthCode',
      description: 'OAuth 授权码 (authorization code for the user-delegated credential)',
    },
    corpId: {
      property: 'currentOrg',
      format: 'corpId',
      description: '当前组织 corpId (current organization)',
    },
  };
