import {
  type AuthorizationRequiredError,
  IdentityMismatchError,
  toAuthorizationRequired,
} from '../credentials/authorization-required.js';
import { ErrorCode, isCodedError, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { CurrentUser } from './context.js';
import { DeadlineQueue } from './deadlines.js';
import { contextValue, decodeInput, refuseDotSegments, zodIssues } from './decode-input.js';
import type { AnySkill } from './define-skill.js';
import { SkillAnswerError, SkillTimeoutError } from './errors.js';
import { DEFAULT_IDEMPOTENCY_WINDOW_MS, type IdempotentAnswers, invocationKeyOf } from './idempotency.js';
import type { SkillInvocation } from './invocation.js';
import { abortedBy, abortInvocation, InvocationContext } from './invocation-context.js';
import { InvocationCredential } from './invocation-credential.js';
import { compose, type InvocationState, type Middleware } from './middleware.js';
import { type SkillObserver, UNROUTED_SKILL } from './observer.js';
import { SkillErrorCode, type SkillOutcome } from './outcome.js';
import type { AppApi, CredentialResolver, TokenSource, UserApi } from './ports.js';
import type { RouteMatch, RouteTable } from './route-table.js';

/** How an invocation stopped: the abort reason, whether the deadline passed, the context once made. */
interface StopState {
  reason: Error | undefined;
  expired: boolean;
  ctx: InvocationContext | undefined;
}

export interface RunnerDeps {
  routes: RouteTable;
  middleware: readonly Middleware[];
  logger: Logger;
  skillTimeoutMs: number;
  credentials: CredentialResolver;
  userApiFor: (source: TokenSource) => UserApi;
  appApi: AppApi;
  onError: ((err: Error, invocation: SkillInvocation) => SkillOutcome | undefined) | undefined;
  /** Told how every invocation ended (metrics). */
  observer?: SkillObserver | undefined;
  /** Remembers the answers of `idempotent` skills (made on first need). */
  answers?: () => IdempotentAnswers;
}

/** The result of one invocation: the outcome and, when routed, the skill. */
export interface InvocationResult {
  outcome: SkillOutcome;
  skill: AnySkill | undefined;
}

/**
 * Routes, decodes, validates and runs one invocation, and turns whatever happens into a SkillOutcome.
 * Never throws: every failure has a defined answer (the error boundary).
 */
export class SkillRunner {
  readonly #deps: RunnerDeps;
  readonly #chain: (state: InvocationState) => Promise<void>;
  /** Every invocation's deadline, on one timer. */
  readonly #deadlines = new DeadlineQueue();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#chain = compose(deps.middleware, (state) => this.#runHandler(state));
  }

  /** The skill an invocation names (ability key, else method + path); SkillNotFoundError otherwise. */
  route(inv: SkillInvocation): RouteMatch {
    return this.#deps.routes.route(inv);
  }

  async run(inv: SkillInvocation): Promise<InvocationResult> {
    const started = performance.now();
    let skill: AnySkill | undefined;
    let outcome: SkillOutcome;
    let key: string | undefined;
    const keyOf = () => {
      key ??= invocationKeyOf(inv);
      return key;
    };
    try {
      const routed = this.route(inv);
      const routedSkill = routed.skill;
      skill = routedSkill;
      refuseDotSegments(routed.params);
      const answers = routedSkill.idempotent ? this.#deps.answers?.() : undefined;
      outcome = answers
        ? await answers.run(
            {
              operationId: routedSkill.operationId,
              key: keyOf(),
              windowMs:
                typeof routedSkill.idempotent === 'object'
                  ? routedSkill.idempotent.windowMs
                  : DEFAULT_IDEMPOTENCY_WINDOW_MS,
              runMs: routedSkill.timeoutMs ?? this.#deps.skillTimeoutMs,
              requestId: inv.requestId,
            },
            () =>
              this.#invoke(inv, routedSkill, routed.params, keyOf).catch((err: unknown) =>
                this.#errorOutcome(err, inv, routedSkill),
              ),
          )
        : await this.#invoke(inv, routedSkill, routed.params, keyOf);
    } catch (err) {
      outcome = this.#errorOutcome(err, inv, skill);
    }
    const elapsed = performance.now() - started;
    this.#deps.observer?.invocationFinished(
      skill?.operationId ?? UNROUTED_SKILL,
      inv.source,
      outcome,
      elapsed / 1000,
    );
    const ms = Math.round(elapsed * 10) / 10;
    const line = {
      requestId: inv.requestId,
      source: inv.source,
      skill: skill?.operationId,
      outcome: outcome.kind,
      code: outcome.kind === 'ok' ? undefined : outcome.code,
      ms,
    };
    if (outcome.kind === 'error' && outcome.status >= 500)
      this.#deps.logger.warn(line, 'skill invocation failed');
    else this.#deps.logger.debug(line, 'skill invocation');
    return { outcome, skill };
  }

  /** (skill, scope) pairs already warned about; bounded, one warning each. */
  readonly #undeclaredWarned = new Set<string>();

  /**
   * DingTalk's 403 named scopes the skill does not declare: consent for the declared scopes can never
   * fix that, so say which skill and which scope, once per pair.
   */
  #warnUndeclared(skill: AnySkill, required: readonly string[], requestId: string): void {
    const undeclared = required.filter((s) => !skill.scopes.includes(s));
    const fresh = undeclared.filter((s) => !this.#undeclaredWarned.has(`${skill.operationId} ${s}`));
    if (fresh.length === 0 || this.#undeclaredWarned.size >= 1000) return;
    for (const s of fresh) this.#undeclaredWarned.add(`${skill.operationId} ${s}`);
    this.#deps.logger.warn(
      { requestId, skill: skill.operationId, undeclaredScopes: undeclared, declaredScopes: skill.scopes },
      `skill "${skill.operationId}" needs ${undeclared.join(', ')} but does not declare it: declare it in \`scopes\` of defineSkill (x-dingtalk-delegated-scopes), or the user is never asked for it`,
    );
  }

  /** Logs an authorization answer (the card), and warns once when DingTalk named an undeclared scope. */
  #authorizationRequired(
    auth: AuthorizationRequiredError,
    inv: SkillInvocation,
    skill: AnySkill | undefined,
  ): void {
    this.#deps.logger.info(
      {
        requestId: inv.requestId,
        skill: skill?.operationId,
        code: auth.authCode,
        requiredScopes: auth.requiredScopes,
      },
      'authorization required: answering with the authorization-card structure',
    );
    if (skill && auth.requiredScopes) this.#warnUndeclared(skill, auth.requiredScopes, inv.requestId);
  }

  #errorOutcome(thrown: unknown, inv: SkillInvocation, skill: AnySkill | undefined): SkillOutcome {
    const err = toError(thrown);
    // DingTalk's authorization failures (an OpenApiError) become AuthorizationRequiredError first.
    const auth = toAuthorizationRequired(err);
    if (auth) this.#authorizationRequired(auth, inv, skill);
    if (auth) return auth.toOutcome();
    if (err instanceof SkillAnswerError) return err.toOutcome();
    if (causedByState(err)) {
      // The shared state store is down (its outage is logged and counted where it is detected): a
      // defined answer the platform can show, rather than a hang or an anonymous 500.
      return {
        kind: 'error',
        status: 503,
        code: SkillErrorCode.StateUnavailable,
        message: 'the app cannot reach its shared state right now; try again shortly',
      };
    }
    if (this.#deps.onError) {
      try {
        const custom = this.#deps.onError(err, inv);
        if (custom) return custom;
      } catch (hookErr) {
        this.#deps.logger.error({ requestId: inv.requestId, err: toError(hookErr) }, 'onError hook threw');
      }
    }
    // The whole error goes to the log with the request id; the platform gets a safe message only.
    this.#deps.logger.error(
      { requestId: inv.requestId, skill: skill?.operationId, err },
      'skill handler threw',
    );
    return { kind: 'error', status: 500, code: SkillErrorCode.InternalError, message: 'internal error' };
  }

  /**
   * The user of an invocation. With a handed-over token (the legacy plugin's `accessToken`) the unionId
   * is its owner's as DingTalk reports it; a different unionId named alongside is refused as a
   * security event. Synchronous unless a handed-over token's owner must be looked up.
   */
  #currentUser(inv: SkillInvocation, skill: AnySkill): CurrentUser | Promise<CurrentUser> {
    const user: CurrentUser = {
      userId: contextValue(inv, 'userId'),
      unionId: contextValue(inv, 'unionId'),
      jobNum: contextValue(inv, 'jobNum'),
    };
    const { identify } = this.#deps.credentials;
    if (inv.trusted === false || !inv.accessToken || !identify) return user;
    return this.#tokenOwner(inv, skill, user, inv.accessToken, identify);
  }

  async #tokenOwner(
    inv: SkillInvocation,
    skill: AnySkill,
    user: CurrentUser,
    accessToken: string,
    identify: NonNullable<CredentialResolver['identify']>,
  ): Promise<CurrentUser> {
    const owner = await identify.call(this.#deps.credentials, accessToken);
    if (owner && user.unionId && owner !== user.unionId) {
      this.#deps.observer?.identityMismatch?.('accessToken');
      this.#deps.logger.warn(
        {
          event: 'security.identity_mismatch',
          via: 'accessToken',
          requestId: inv.requestId,
          source: inv.source,
          skill: skill.operationId,
          asserted: user.unionId,
          owner,
        },
        'security: a token of another user was handed over; refused',
      );
      throw new IdentityMismatchError('the handed-over token belongs to another user');
    }
    if (owner) user.unionId = owner;
    return user;
  }

  /**
   * Validates, resolves the user and the credential, then runs the middleware chain and the handler,
   * all within the skill's deadline: it starts here, at receipt, so a credential that waits on a
   * refresh lock or a slow DingTalk answers the platform with the 504 `HandlerTimeout` in time, not
   * with a frame-level failure after the platform gave up.
   */
  async #invoke(
    inv: SkillInvocation,
    skill: AnySkill,
    params: Record<string, string>,
    invocationKey: () => string,
  ): Promise<SkillOutcome> {
    const input = decodeInput(inv, skill, params);
    const timeoutMs = skill.timeoutMs ?? this.#deps.skillTimeoutMs;
    // Why the invocation's signal aborted (deadline or caller), and the context once there is one. No
    // AbortController per invocation: the context makes its signal on first use.
    const stop: StopState = { reason: undefined, expired: false, ctx: undefined };
    const abort = (reason: Error) => {
      stop.reason ??= reason;
      stop.ctx?.[abortInvocation](stop.reason);
    };
    // The caller cancelling aborts the handler's signal; the handler decides how to answer.
    const external = inv.signal;
    const onExternalAbort = external && (() => abort(new Error('the caller cancelled the invocation')));
    if (external && onExternalAbort) {
      if (external.aborted) onExternalAbort();
      else external.addEventListener('abort', onExternalAbort, { once: true });
    }
    // One promise settled by whichever comes first: the answer, or the deadline (a shared timer, see
    // DeadlineQueue), rather than a timer and a Promise.race per invocation.
    const stopListening = () => {
      if (external && onExternalAbort) external.removeEventListener('abort', onExternalAbort);
    };
    return new Promise<SkillOutcome>((resolve, reject) => {
      const deadline = this.#deadlines.add(timeoutMs, () => {
        const timedOut = new SkillTimeoutError(skill.operationId, timeoutMs);
        stop.expired = true;
        abort(timedOut);
        stopListening();
        reject(timedOut);
      });
      const done = () => {
        deadline.cancel();
        stopListening();
      };
      this.#prepareAndRun(inv, skill, input, invocationKey, stop).then(
        (outcome) => {
          done();
          resolve(outcome);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  async #prepareAndRun(
    inv: SkillInvocation,
    skill: AnySkill,
    input: Record<string, unknown>,
    invocationKey: () => string,
    stop: StopState,
  ): Promise<SkillOutcome> {
    const deps = this.#deps;
    const found = this.#currentUser(inv, skill);
    const user = found instanceof Promise ? await found : found;
    const credential = new InvocationCredential(
      deps.credentials,
      inv,
      user,
      contextValue(inv, 'oauthAuthCode'),
    );
    // Resolved before the handler for skills that declare scopes (no token -> the card, and the handler
    // never runs); on first use of the user API otherwise.
    if (skill.scopes.length > 0) await credential.require();
    // The deadline passed while resolving: the 504 has gone; the handler must not run after it.
    if (stop.expired) throw stop.reason;
    const ctx = new InvocationContext({
      requestId: inv.requestId,
      source: inv.source,
      skill,
      user,
      corpId: contextValue(inv, 'corpId'),
      appApi: deps.appApi,
      logger: deps.logger,
      invocationKey,
      userApi: () => deps.userApiFor(credential.lazySource()),
    });
    stop.ctx = ctx;
    if (stop.reason) ctx[abortInvocation](stop.reason);
    const state: InvocationState = { invocation: inv, skill, input, ctx, outcome: undefined };
    await this.#chain(state);
    return (
      state.outcome ?? {
        kind: 'error',
        status: 500,
        code: SkillErrorCode.InternalError,
        message: 'no answer',
      }
    );
  }

  /** The end of the middleware chain: runs the handler and checks its result (no async frame of its own). */
  #runHandler(state: InvocationState): Promise<void> {
    const { skill } = state;
    // A middleware that awaited past the deadline: the 504 has gone, the handler must not run now
    // (for an idempotent skill, a redelivery may already be running it).
    const stopped = (state.ctx as InvocationContext)[abortedBy];
    if (stopped instanceof SkillTimeoutError) return Promise.reject(stopped);
    // Everything that can throw stays inside: the handler, a `then` getter, and the output schema (a
    // zod transform or refine may throw); `next()` must always return a promise, never throw.
    try {
      const result: unknown = skill.handler(state.input, state.ctx);
      if (isThenable(result)) return Promise.resolve(result).then((value) => this.#settle(state, value));
      this.#settle(state, result);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sets the outcome from the handler's result, checked against the skill's output schema. */
  #settle(state: InvocationState, result: unknown): void {
    const { skill } = state;
    if (skill.output) {
      const checked = skill.output.safeParse(result);
      if (!checked.success) {
        state.ctx.logger.error(
          { issues: zodIssues(checked.error) },
          `skill ${skill.operationId} returned a result that fails its output schema`,
        );
        state.outcome = {
          kind: 'error',
          status: 500,
          code: SkillErrorCode.InvalidOutput,
          message: 'the skill returned an invalid result',
        };
        return;
      }
      state.outcome = { kind: 'ok', body: checked.data };
      return;
    }
    state.outcome = { kind: 'ok', body: result ?? null };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** True when `err` or one of its causes is an ERR_STATE failure (the shared state store did not answer). */
function causedByState(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    if (isCodedError(e, ErrorCode.State)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
