/**
 * The `x-dingtalk-context` values the assistant knows (property -> formats), as DingTalk documents
 * them for AI assistant actions. A parameter with any other pair could never be filled.
 */
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
