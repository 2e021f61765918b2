/**
 * What the skills app needs from the OpenAPI client and the credential manager, as structural
 * interfaces: the app depends on these shapes, not on how tokens are stored or refreshed.
 */
import type { AuthFailureCode } from '../protocol/auth-failure.js';

/** Supplies the user's token for OpenAPI calls; may refresh once on an authorization failure. */
export interface TokenSource {
  getToken(): Promise<string>;
  onAuthFailure?(err: unknown): Promise<'retry' | 'fail'>;
}

/** Resolves the user's credential for one invocation. */
export interface CredentialResolver {
  resolve(input: {
    accessToken?: string;
    authCode?: string;
    unionId?: string;
  }): Promise<TokenSource | undefined>;
}

/** Maps an error from an OpenAPI call to an authorization requirement, when it is one. */
export type AuthorizationMapper = (
  err: unknown,
) => { authCode: AuthFailureCode; requiredScopes?: string[] } | undefined;

// biome-ignore lint/suspicious/noExplicitAny: replaced by the OpenAPI client's types.
export type UserApi = any;
// biome-ignore lint/suspicious/noExplicitAny: replaced by the OpenAPI client's types.
export type AppApi = any;
