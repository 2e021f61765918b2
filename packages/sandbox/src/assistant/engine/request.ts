import type { GraphMethod } from '@dingtalk-skills/sdk/protocol';
import type { ContextRef, SkillAction } from '../openapi-document/types.js';
import type { AssistantUser } from '../ports.js';

/** What the assistant knows when it fills `x-dingtalk-context` parameters. */
export interface ContextValues {
  user: AssistantUser;
  conversationId: string;
  /** Only on the re-run right after consent: the fresh, single-use authorization code. */
  authCode?: string;
  /** The plain-text command (`currentInput/raw`), when there was one. */
  text?: string;
  /** `currentConversation/conversationToken`: the conversation's own token. */
  conversationToken?: string;
  /** `currentConversation/sessionWebhook`: where the skill may post replies (until it expires). */
  sessionWebhook?: string;
  /** `currentInput/attribute`: how the input came (a JSON string). */
  inputAttribute?: string;
}

/** A call ready for a transport: method, path + encoded query, JSON body. */
export interface BuiltRequest {
  method: GraphMethod;
  uri: string;
  body: Record<string, unknown> | undefined;
}

/** The value of one context parameter, or undefined when it has none for this call (oauthAuthCode before consent, raw without a command). */
export function contextValue(ref: ContextRef, ctx: ContextValues): string | undefined {
  switch (`${ref.property}/${ref.format}`) {
    case 'currentUser/userId':
      return ctx.user.userId;
    case 'currentUser/unionId':
      return ctx.user.unionId;
    case 'currentUser/jobNum':
      return ctx.user.jobNum;
    case 'currentUser/oauthAuthCode':
      return ctx.authCode;
    case 'currentOrg/corpId':
      return ctx.user.corpId;
    case 'currentInput/raw':
      return ctx.text;
    case 'currentInput/attribute':
      return ctx.inputAttribute;
    case 'currentConversation/openConversationId':
      return ctx.conversationId;
    case 'currentConversation/conversationToken':
      return ctx.conversationToken;
    case 'currentConversation/sessionWebhook':
      return ctx.sessionWebhook;
    default:
      return undefined;
  }
}

function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Builds the call: path parameters substituted, query parameters (arrays repeated) URL-encoded,
 * body properties in a JSON object; the context parameters filled from `ctx`.
 */
export function buildRequest(
  action: SkillAction,
  values: Record<string, unknown>,
  ctx: ContextValues,
): BuiltRequest {
  const query: Array<[string, string]> = [];
  const body: Record<string, unknown> = {};
  let path = action.path;
  for (const param of action.params) {
    const value = param.context ? contextValue(param.context, ctx) : values[param.name];
    if (value === undefined) continue;
    if (param.in === 'path') path = path.split(`{${param.name}}`).join(encodeURIComponent(scalarText(value)));
    else if (param.in === 'query') {
      for (const v of Array.isArray(value) ? value : [value]) query.push([param.name, scalarText(v)]);
    } else body[param.name] = value;
  }
  const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return {
    method: action.method,
    uri: qs === '' ? path : `${path}?${qs}`,
    body: action.hasBody ? body : undefined,
  };
}
