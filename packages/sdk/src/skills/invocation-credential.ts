import { AuthorizationRequiredError } from '../credentials/authorization-required.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import type { CurrentUser } from './context.js';
import type { SkillInvocation } from './invocation.js';
import type { CredentialResolver, TokenSource } from './ports.js';

function noToken(): AuthorizationRequiredError {
  return new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, {
    message: 'no user token for this invocation: the user must authorize',
  });
}

/**
 * The user's credential (用户代理凭证) for one invocation, resolved at most once: from the handed-over
 * token, the authorization code, or the token stored for the user. An invocation that did not provably
 * come from the platform (`trusted: false`) never acts as a user.
 */
export class InvocationCredential {
  readonly #credentials: CredentialResolver;
  readonly #inv: SkillInvocation;
  readonly #user: CurrentUser;
  readonly #authCode: string | undefined;
  #resolved: Promise<TokenSource | undefined> | undefined;

  constructor(credentials: CredentialResolver, inv: SkillInvocation, user: CurrentUser, authCode?: string) {
    this.#credentials = credentials;
    this.#inv = inv;
    this.#user = user;
    this.#authCode = authCode;
  }

  /** The token source, or undefined when the user has not authorized (resolved once, then shared). */
  resolve(): Promise<TokenSource | undefined> {
    if (this.#inv.trusted === false) return Promise.resolve(undefined);
    const { accessToken } = this.#inv;
    const authCode = this.#authCode;
    const { unionId } = this.#user;
    this.#resolved ??= this.#credentials.resolve({
      ...(accessToken ? { accessToken } : {}),
      ...(authCode ? { authCode } : {}),
      ...(unionId ? { unionId } : {}),
    });
    return this.#resolved;
  }

  /** The token source; AuthorizationRequiredError (the authorization card) when there is none. */
  async require(): Promise<TokenSource> {
    const source = await this.resolve();
    if (!source) throw noToken();
    return source;
  }

  /**
   * A token source for the user API that resolves on first use: a skill without scopes that never calls
   * the user API never resolves a credential.
   */
  lazySource(): TokenSource {
    return {
      // The assistant's unionId fills defaults such as a to-do's executor.
      unionId: this.#user.unionId,
      getToken: async () => (await this.require()).getToken(),
      onAuthFailure: async (err, failedToken) => {
        const source = await this.resolve();
        return source?.onAuthFailure ? source.onAuthFailure(err, failedToken) : 'fail';
      },
    };
  }
}
