import type { ScopeLabel } from '../ports.js';

/** Fields every transcript step has. */
interface StepBase {
  /** Sandbox clock time (epoch ms). */
  at: number;
  /** The invocation this step belongs to (a conversation holds several). */
  invocationId: string;
}

/** The assistant runs an action (attempt 1), or runs it again after consent (attempt 2). */
export interface InvokeStep extends StepBase {
  step: 'invoke';
  attempt: 1 | 2;
  operationId: string;
  summary: string;
  clientId: string;
  appName: string;
  userId: string;
  /** The user's input (context parameters excluded). */
  params: Record<string, unknown>;
  /** The plain-text command, when the invocation came from `say`. */
  text?: string;
  /** True on the re-run, which carries a fresh `oauthAuthCode`. */
  withAuthCode: boolean;
}

/** The assistant shows an authorization card (授权卡片) instead of a result. */
export interface AuthCardStep extends StepBase {
  step: 'auth_card';
  /** `platform`: declared scopes not granted (the skill was not called); `skill`: the skill answered the auth structure. */
  trigger: 'platform' | 'skill';
  /** `InvalidAuthentication` or `Forbidden.AccessDenied.AccessTokenPermissionDenied`. */
  code: string;
  clientId: string;
  appName: string;
  userId: string;
  /** Permissions the action needs that the user has not granted. */
  missingScopes: ScopeLabel[];
  /** Scope codes the consent asks for. */
  requestedScopes: string[];
  /** Where the "授权 Authorize" button goes (`/oauth2/auth?...`). */
  consentUrl: string;
  /** The skill's status and request id (skill-triggered cards). */
  status?: number;
  requestId?: string;
  message: string;
  /**
   * Scopes the skill's 403 named that its action does not declare (x-dingtalk-delegated-scopes), and a
   * warning that says to declare them: the real platform asks only for declared scopes.
   */
  undeclaredScopes?: string[];
  warning?: string;
}

/** The user's decision on the consent page (or the headless consent of `autoConsent`). */
export interface ConsentStep extends StepBase {
  step: 'consent';
  decision: 'approve' | 'deny';
  /** Approve: the scopes of the grant after consent; deny: the scopes that were asked for. */
  scopes: string[];
  via: 'page' | 'headless';
  /** The OAuth error on deny (`access_denied`). */
  error?: string;
  /** Who consented, when it was not the user talking (the page offers every account). */
  userId?: string;
}

/** The skill's answer: its JSON body; the keys are the AI card's variables. */
export interface ResultStep extends StepBase {
  step: 'result';
  status: number;
  body: unknown;
}

/** Stable codes of `error` steps. */
export type ErrorStepCode =
  | 'invalidParams'
  | 'noMatchingSkill'
  | 'skillUnavailable'
  | 'skillTimeout'
  | 'transportError'
  | 'badResponse'
  | 'skillError'
  | 'consentDenied'
  | 'consentExpired'
  | 'consentIncomplete'
  | 'consentWrongUser'
  | 'consentFailed'
  | 'authorizationFailedAgain';

/** The invocation ended without a result. */
export interface ErrorStep extends StepBase {
  step: 'error';
  code: ErrorStepCode;
  message: string;
  /** The skill's status and body, when it answered. */
  status?: number;
  body?: unknown;
  /** The plain-text command that could not be matched (`noMatchingSkill`). */
  text?: string;
}

/** A reply the skill posted to its session webhook (`sessionWebhook`), shown in the conversation. */
export interface ReplyStep extends StepBase {
  step: 'reply';
  via: 'sessionWebhook';
  msgtype: 'text' | 'markdown' | 'actionCard' | 'link';
  title?: string;
  text: string;
  buttons?: Array<{ title: string; url: string }>;
  picUrl?: string;
  atUserIds?: string[];
  isAtAll?: boolean;
}

export type TranscriptStep = InvokeStep | AuthCardStep | ConsentStep | ResultStep | ErrorStep | ReplyStep;

/** `done` when the invocation ended (result or error); `awaiting_consent` while a card waits. */
export type InvocationStatus = 'done' | 'awaiting_consent';

/** One invocation's summary inside a conversation. */
export interface InvocationSummary {
  id: string;
  operationId: string;
  clientId: string;
  status: InvocationStatus | 'running';
  /** How often the skill itself was called (at most 2). */
  skillCalls: number;
  startedAt: number;
}

/** A conversation between one user and the assistant: its invocations and every step, in order. */
export interface Conversation {
  id: string;
  userId: string;
  /** The conversation's own `conversationToken` (never equal to its id, the `openConversationId`). */
  conversationToken: string;
  /** The session webhook handed to the last skill call, and when it expires (`sessionWebhookExpiredTime`). */
  sessionWebhook?: { url: string; expiresAt: number };
  createdAt: number;
  updatedAt: number;
  /** `awaiting_consent` while any invocation waits for consent. */
  status: InvocationStatus;
  invocations: InvocationSummary[];
  transcript: TranscriptStep[];
}
