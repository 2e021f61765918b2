/**
 * What the skills app needs from the OpenAPI client and the credential manager. The app depends on
 * these shapes; `UserTokenManager` and `createOpenApiClient` provide them.
 */
import type { OpenApiClient } from '../openapi/client.js';
import type { UserTokenSource } from '../openapi/token-source.js';
import type { UserApi } from '../openapi/user-api.js';

export type { UserApi };
/** Supplies the user's token for OpenAPI calls; may refresh once on an authorization failure. */
export type TokenSource = UserTokenSource;

/** Resolves the user's credential for one invocation (UserTokenManager satisfies it). */
export interface CredentialResolver {
  resolve(input: {
    accessToken?: string;
    authCode?: string;
    unionId?: string;
  }): Promise<TokenSource | undefined>;
  /**
   * The unionId of the user a handed-over token belongs to, as DingTalk reports it (undefined when it
   * does not say). Without it, a handed-over token's owner is taken as unknown.
   */
  identify?(accessToken: string): Promise<string | undefined>;
}

/** The OpenAPI as the app (企业凭证): the OpenAPI client itself. */
export type AppApi = OpenApiClient;
