import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { OpenApiError } from '../openapi/errors.js';
import {
  type AuthFailure,
  AuthFailureCode,
  authFailure,
  authFailureStatus,
} from '../protocol/auth-failure.js';
import { OpenApiErrorCode } from '../protocol/openapi-error.js';

/** Details of an {@link AuthorizationRequiredError}. */
export interface AuthorizationRequiredOptions {
  message?: string;
  /** Scopes the user must grant (from DingTalk's 403). */
  requiredScopes?: string[];
  /** DingTalk's request id of the OpenAPI call that failed, for logs. */
  openApiRequestId?: string;
  cause?: unknown;
}

/**
 * The user must (re)authorize before the skill can act for them. Code ERR_AUTHORIZATION_REQUIRED;
 * `authCode` is the DingTalk code that makes the assistant show its authorization card
 * (`InvalidAuthentication`: no usable token; `Forbidden.AccessDenied.AccessTokenPermissionDenied`:
 * a scope is missing). The skills framework catches it and answers {@link toAuthFailure}.
 */
export class AuthorizationRequiredError extends DingTalkSkillsError {
  readonly authCode: AuthFailureCode;
  readonly requiredScopes: string[] | undefined;
  readonly openApiRequestId: string | undefined;

  constructor(authCode: AuthFailureCode, options: AuthorizationRequiredOptions = {}) {
    const scopes = options.requiredScopes?.length ? ` (scopes: ${options.requiredScopes.join(', ')})` : '';
    super(
      ErrorCode.AuthorizationRequired,
      options.message ??
        (authCode === AuthFailureCode.PermissionDenied
          ? `the user has not granted a permission this call needs${scopes}`
          : 'no usable user token: the user must authorize'),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.authCode = authCode;
    this.requiredScopes = options.requiredScopes;
    this.openApiRequestId = options.openApiRequestId;
  }

  /** HTTP status that goes with `authCode` (400 or 403). */
  get status(): 400 | 403 {
    return authFailureStatus(this.authCode);
  }

  /**
   * The skill outcome this error renders (the skills runner asks every error for `toOutcome()`, as
   * Hono asks for `getResponse()`): the authorization structure, with the scopes DingTalk named.
   */
  toOutcome(): { kind: 'auth'; code: AuthFailureCode; requiredScopes?: string[] } {
    return this.requiredScopes
      ? { kind: 'auth', code: this.authCode, requiredScopes: this.requiredScopes }
      : { kind: 'auth', code: this.authCode };
  }

  /** The answer that makes the assistant show its authorization card: `{success:false, code, requestId}`. */
  toAuthFailure(requestId: string): AuthFailure {
    return authFailure(this.authCode, requestId);
  }
}

/**
 * A credential was presented for one user that belongs to another (an authorization code or a token
 * whose owner, as DingTalk reports it, is not the user the platform named). Answered like a missing
 * token (`InvalidAuthentication`: the authorization card), never acted on; logged as a security event.
 */
export class IdentityMismatchError extends AuthorizationRequiredError {
  constructor(message: string) {
    super(AuthFailureCode.InvalidAuthentication, { message });
  }
}

/**
 * Maps an error to AuthorizationRequiredError when it means "the user must authorize": an
 * OpenApiError with `InvalidAuthentication` (or a missing token header) or
 * `Forbidden.AccessDenied.AccessTokenPermissionDenied` (with its `requiredScopes`). An
 * AuthorizationRequiredError is returned as is; anything else gives undefined, so callers write
 * `throw toAuthorizationRequired(err) ?? err`.
 */
export function toAuthorizationRequired(err: unknown): AuthorizationRequiredError | undefined {
  if (err instanceof AuthorizationRequiredError) return err;
  if (!(err instanceof OpenApiError)) return undefined;
  const base = { cause: err, openApiRequestId: err.requestId };
  if (err.apiCode === AuthFailureCode.PermissionDenied)
    return new AuthorizationRequiredError(
      AuthFailureCode.PermissionDenied,
      err.requiredScopes ? { ...base, requiredScopes: err.requiredScopes } : base,
    );
  if (err.apiCode === AuthFailureCode.InvalidAuthentication || err.apiCode === OpenApiErrorCode.MissingToken)
    return new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, base);
  return undefined;
}
