import type { Logger } from '../logging/logger.js';
import type { AuthFailureCode } from '../protocol/auth-failure.js';
import type { AnySkill } from './define-skill.js';
import type { InvocationSource } from './invocation.js';
import type { AppApi, UserApi } from './ports.js';

/** Who is calling, as the assistant's `x-dingtalk-context` parameters say. */
export interface CurrentUser {
  userId: string | undefined;
  unionId: string | undefined;
  jobNum: string | undefined;
}

/** What a handler receives besides its typed input. */
export interface SkillContext {
  /** The platform's request id (echoed in every answer). */
  readonly requestId: string;
  /**
   * Stable across redeliveries of this invocation (a hash of what DingTalk sends again: the request,
   * its context parameters and the platform's request id when there is one; never the messageId).
   * Use it as an idempotency key for side effects, or declare the skill `idempotent`.
   */
  readonly invocationKey: string;
  readonly source: InvocationSource;
  readonly skill: AnySkill;
  readonly user: CurrentUser;
  readonly corpId: string | undefined;
  /** A child logger bound to the request id and skill; secrets are redacted. */
  readonly logger: Logger;
  /** Aborted when the skill's deadline passes; pass it on to long work. */
  readonly signal: AbortSignal;
  /**
   * DingTalk's OpenAPI as the user (用户代理凭证): contact, to-dos, calendar, personal status.
   * The credential is resolved on first use (plugin accessToken, then the oauthAuthCode, then the
   * stored token for this user, refreshed when expired). When none can be had, or the OpenAPI says
   * the token is invalid or lacks a scope, the invocation ends with the authorization-card answer.
   */
  readonly userApi: UserApi;
  /** DingTalk's OpenAPI as the app (企业凭证). */
  readonly appApi: AppApi;
  /** Ends the invocation with the authorization-card answer (`{success:false, code, requestId}`). */
  requireAuthorization(code?: AuthFailureCode, requiredScopes?: string[]): never;
  /** Free slot for middleware to pass values to handlers. */
  readonly state: Record<string, unknown>;
}
