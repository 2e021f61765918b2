import type { OpenApiError } from './errors.js';

/**
 * Where a call gets its access token. The OpenAPI client asks for the token before every attempt and,
 * when DingTalk rejects it (`InvalidAuthentication`, `AccessTokenPermissionDenied`), asks the source
 * once whether a retry makes sense (e.g. after a refresh). Without `onAuthFailure` the error propagates.
 */
export interface TokenSource {
  /** The token to send in `x-acs-dingtalk-access-token`. */
  getToken(): Promise<string>;
  /**
   * Called at most once per call when DingTalk rejected `failedToken` (the client always passes it;
   * without it, the source's current token is meant). Answer 'retry' after making a newer token
   * available (the call then runs once more), 'fail' to let `err` propagate. May throw a better error
   * instead (e.g. AuthorizationRequiredError when the refresh token is dead).
   */
  onAuthFailure?(err: OpenApiError, failedToken?: string): Promise<'retry' | 'fail'>;
}

/** A token source for one user; `unionId`, when known, fills defaults such as a to-do's executor. */
export interface UserTokenSource extends TokenSource {
  readonly unionId?: string | undefined;
}

/** A source for a token that is used as is (e.g. the `accessToken` in an AI plugin's callback data). */
export function staticTokenSource(accessToken: string, unionId?: string): UserTokenSource {
  return { getToken: () => Promise.resolve(accessToken), unionId };
}
