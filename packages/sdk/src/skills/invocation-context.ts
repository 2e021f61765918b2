import { AuthorizationRequiredError } from '../credentials/authorization-required.js';
import type { Logger } from '../logging/logger.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import type { CurrentUser, SkillContext } from './context.js';
import type { AnySkill } from './define-skill.js';
import type { InvocationSource } from './invocation.js';
import type { AppApi, UserApi } from './ports.js';

/** Aborts a context's signal (the runner's, when the deadline passes); not part of the public context. */
export const abortInvocation: unique symbol = Symbol('abortInvocation');
/** Why the context's signal was aborted, if it was (read without making the signal). */
export const abortedBy: unique symbol = Symbol('abortedBy');

/** Makes what a context creates on first use (the running invocation: one object, no closures). */
export interface ContextSource {
  /** Builds the OpenAPI-as-the-user facade on first use of `userApi`. */
  userApi(): UserApi;
  /** Computes (or returns the runner's) invocation key on first use of `invocationKey`. */
  invocationKey(): string;
}

export interface InvocationContextInit {
  requestId: string;
  source: InvocationSource;
  skill: AnySkill;
  user: CurrentUser;
  corpId: string | undefined;
  appApi: AppApi;
  /** The app's logger; the context's child logger is made from it on first use. */
  logger: Logger;
  /** Makes the user API and the invocation key on first use. */
  lazy: ContextSource;
}

/**
 * The {@link SkillContext} of one invocation. The child logger, the abort signal and the user API are
 * made on first use: most handlers touch none of them, and an AbortController per invocation costs
 * several µs in Node. A class rather than an object literal with getters: a literal's getters are new
 * closures per invocation, which gave every context its own hidden class (bench `skills`: every
 * invocation's garbage promoted, 10-50 ms scavenges).
 */
export class InvocationContext implements SkillContext {
  readonly requestId: string;
  readonly source: InvocationSource;
  readonly skill: AnySkill;
  readonly user: CurrentUser;
  readonly corpId: string | undefined;
  readonly appApi: AppApi;
  /** An own property, as it always was: handlers may spread the context or (in JS) replace it. */
  readonly state: Record<string, unknown> = {};
  readonly #appLogger: Logger;
  readonly #lazy: ContextSource;
  #logger: Logger | undefined;
  #userApi: UserApi | undefined;
  #abort: AbortController | undefined;
  #abortReason: Error | undefined;

  constructor(init: InvocationContextInit) {
    this.requestId = init.requestId;
    this.source = init.source;
    this.skill = init.skill;
    this.user = init.user;
    this.corpId = init.corpId;
    this.appApi = init.appApi;
    this.#appLogger = init.logger;
    this.#lazy = init.lazy;
  }

  get invocationKey(): string {
    return this.#lazy.invocationKey();
  }

  get logger(): Logger {
    this.#logger ??= this.#appLogger.child({ requestId: this.requestId, skill: this.skill.operationId });
    return this.#logger;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#abortReason !== undefined) this.#abort.abort(this.#abortReason);
    }
    return this.#abort.signal;
  }

  get userApi(): UserApi {
    this.#userApi ??= this.#lazy.userApi();
    return this.#userApi;
  }

  requireAuthorization(
    code: AuthFailureCode = AuthFailureCode.InvalidAuthentication,
    requiredScopes?: string[],
  ): never {
    throw new AuthorizationRequiredError(code, requiredScopes ? { requiredScopes } : {});
  }

  get [abortedBy](): Error | undefined {
    return this.#abortReason;
  }

  /** Aborts the signal with `reason`; a signal first asked for later starts aborted. */
  [abortInvocation](reason: Error): void {
    this.#abortReason = reason;
    this.#abort?.abort(reason);
  }
}
