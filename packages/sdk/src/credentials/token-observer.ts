/** How a call to the user-token endpoint ended. */
export type TokenCallResult =
  /** New tokens were issued. */
  | 'ok'
  /** DingTalk refused the code or refresh token itself (used, expired, revoked): the user must authorize. */
  | 'rejected'
  /** No answer, a 5xx, a rate limit or the app's own credentials: the grant may still be good. */
  | 'error';

/**
 * Told about every call to `/v1.0/oauth2/userAccessToken`, for metrics. Called synchronously;
 * implementations must be cheap and must not throw.
 */
export interface UserTokenObserver {
  /** A refresh (`grantType: refresh_token`) ended. */
  tokenRefreshed(result: TokenCallResult): void;
  /** An authorization code exchange (`grantType: authorization_code`) ended. */
  codeExchanged(result: TokenCallResult): void;
  /**
   * A credential presented for one user belonged to another and was refused (a security event):
   * `authCode` for an exchanged code, `accessToken` for a token handed over with the call.
   */
  identityMismatch?(via: 'authCode' | 'accessToken'): void;
}
