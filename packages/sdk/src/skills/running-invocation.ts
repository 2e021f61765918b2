import { IdentityMismatchError } from '../credentials/authorization-required.js';
import type { CurrentUser } from './context.js';
import type { Deadline } from './deadlines.js';
import { contextValue, zodIssues } from './decode-input.js';
import type { AnySkill } from './define-skill.js';
import { SkillTimeoutError } from './errors.js';
import { invocationKeyOf } from './idempotency.js';
import type { SkillInvocation } from './invocation.js';
import { abortedBy, abortInvocation, type ContextSource, InvocationContext } from './invocation-context.js';
import { InvocationCredential } from './invocation-credential.js';
import type { InvocationState } from './middleware.js';
import { SkillErrorCode, type SkillOutcome } from './outcome.js';
import type { CredentialResolver, UserApi } from './ports.js';
import type { SkillRunner } from './skill-runner.js';

/**
 * What a running invocation needs from its runner: its dependencies, the middleware chain (ending in
 * {@link runHandler}), the shared deadline queue, the error boundary and `conclude` (see SkillRunner).
 */
export type InvocationHost = Pick<SkillRunner, 'deps' | 'chain' | 'deadlines' | 'errorOutcome' | 'conclude'>;

/**
 * What an invocation resolves to, made from its outcome: the result, or a receiver's rendered answer.
 * A function made once (per runner or receiver), not per invocation.
 */
export type Finish<T> = (outcome: SkillOutcome, inv: SkillInvocation, skill: AnySkill | undefined) => T;

/** The outcome itself (the idempotent path, which reports once around its stored answers). */
export const keepOutcome: Finish<SkillOutcome> = (outcome) => outcome;

/** A middleware answered nothing and never called `next()` (a fresh object: outcomes are handed out). */
function noAnswer(): SkillOutcome {
  return { kind: 'error', status: 500, code: SkillErrorCode.InternalError, message: 'no answer' };
}

/**
 * One invocation in flight, from the validated input to its outcome: the user, the credential, the
 * middleware chain and the handler, all within the skill's deadline. The deadline starts here, at
 * receipt, so a credential that waits on a refresh lock or a slow DingTalk answers the platform with
 * the 504 `HandlerTimeout` in time, not with a frame-level failure after the platform gave up.
 *
 * One object per invocation, with methods instead of closures (issue 14: per-message allocations): it
 * is the deadline's target (`expire`), the caller's abort listener (`handleEvent`) and the source of its
 * context's lazy parts (`userApi`, `invocationKey`). Its promise is settled once, by whichever comes
 * first: the answer or the deadline. A failure of the skill becomes the error boundary's outcome; it
 * rejects only when the app's own parts fail: a 500 that cannot be rendered (see
 * `SkillRunner.conclude`), or a logger that throws on a plain line.
 */
export class RunningInvocation<T> implements ContextSource {
  readonly #host: InvocationHost;
  readonly #inv: SkillInvocation;
  readonly #skill: AnySkill;
  readonly #input: Record<string, unknown>;
  /** When the invocation was received (`performance.now()`). */
  readonly #started: number;
  readonly #finish: Finish<T>;
  /** Whether settling reports the invocation (observer, log); the idempotent path reports once itself. */
  readonly #report: boolean;
  #key: string | undefined;
  #user: CurrentUser | undefined;
  #credential: InvocationCredential | undefined;
  #ctx: InvocationContext | undefined;
  #deadline: Deadline | undefined;
  /** Why the signal aborted (the deadline or the caller), once it did. */
  #reason: Error | undefined;
  #expired = false;
  #settled = false;
  #resolve: ((value: T) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;

  constructor(
    host: InvocationHost,
    inv: SkillInvocation,
    skill: AnySkill,
    input: Record<string, unknown>,
    started: number,
    finish: Finish<T>,
    options: { report: boolean; key?: string | undefined },
  ) {
    this.#host = host;
    this.#inv = inv;
    this.#skill = skill;
    this.#input = input;
    this.#started = started;
    this.#finish = finish;
    this.#report = options.report;
    this.#key = options.key;
  }

  /** Runs the invocation: `finish` of its outcome. */
  start(): Promise<T> {
    const settled = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller cancelling aborts the handler's signal; the handler decides how to answer.
    const external = this.#inv.signal;
    if (external?.aborted) this.handleEvent();
    else external?.addEventListener('abort', this, { once: true });
    // One shared timer for every invocation's deadline (DeadlineQueue), not a timer and a race per call.
    const timeoutMs = this.#skill.timeoutMs ?? this.#host.deps.skillTimeoutMs;
    this.#deadline = this.#host.deadlines.add(timeoutMs, this);
    void this.#execute();
    return settled;
  }

  /** The caller's signal aborted (an EventListenerObject: no closure per invocation). */
  handleEvent(): void {
    this.#abort(new Error('the caller cancelled the invocation'));
  }

  /** The deadline passed: the 504 answers now; the handler's signal aborts. */
  expire(): void {
    const skill = this.#skill;
    const timedOut = new SkillTimeoutError(
      skill.operationId,
      skill.timeoutMs ?? this.#host.deps.skillTimeoutMs,
    );
    this.#expired = true;
    this.#abort(timedOut);
    let outcome: SkillOutcome;
    try {
      outcome = this.#host.errorOutcome(timedOut, this.#inv, skill);
    } catch (boundaryErr) {
      this.#fail(boundaryErr);
      return;
    }
    this.#settle(outcome);
  }

  invocationKey(): string {
    this.#key ??= invocationKeyOf(this.#inv);
    return this.#key;
  }

  userApi(): UserApi {
    return this.#host.deps.userApiFor(this.#credentialOf().lazySource());
  }

  #abort(reason: Error): void {
    this.#reason ??= reason;
    this.#ctx?.[abortInvocation](this.#reason);
  }

  /** Stops the deadline and the caller's listener; false when the invocation had settled already. */
  #finishOnce(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#deadline?.cancel();
    this.#inv.signal?.removeEventListener('abort', this);
    return true;
  }

  #fail(err: unknown): void {
    if (this.#finishOnce()) this.#reject?.(err);
  }

  /** The first outcome wins; a later one (an answer after the 504) is dropped. */
  #settle(outcome: SkillOutcome): void {
    if (!this.#finishOnce()) return;
    try {
      this.#resolve?.(
        this.#host.conclude(this.#finish, outcome, this.#inv, this.#skill, this.#started, this.#report),
      );
    } catch (err) {
      this.#reject?.(err);
    }
  }

  /** The user's credential, made on first need; only once the user is known (`#execute` sets it first). */
  #credentialOf(): InvocationCredential {
    if (this.#credential) return this.#credential;
    const user = this.#user;
    if (user === undefined) throw new Error('the credential was asked for before the user was known');
    this.#credential = new InvocationCredential(
      this.#host.deps.credentials,
      this.#inv,
      user,
      contextValue(this.#inv, 'oauthAuthCode'),
    );
    return this.#credential;
  }

  async #execute(): Promise<void> {
    const inv = this.#inv;
    const skill = this.#skill;
    let outcome: SkillOutcome;
    try {
      const found = this.#currentUser();
      const user = found instanceof Promise ? await found : found;
      this.#user = user;
      // Resolved before the handler for skills that declare scopes (no token -> the card, and the
      // handler never runs); on first use of the user API otherwise.
      if (skill.scopes.length > 0) await this.#credentialOf().require();
      // The deadline passed while resolving: the 504 has gone; the handler must not run after it.
      if (this.#expired) return;
      const deps = this.#host.deps;
      const ctx = new InvocationContext({
        requestId: inv.requestId,
        source: inv.source,
        skill,
        user,
        corpId: contextValue(inv, 'corpId'),
        appApi: deps.appApi,
        logger: deps.logger,
        lazy: this,
      });
      this.#ctx = ctx;
      if (this.#reason) ctx[abortInvocation](this.#reason);
      const state: InvocationState = { invocation: inv, skill, input: this.#input, ctx, outcome: undefined };
      await this.#host.chain(state);
      outcome = state.outcome ?? noAnswer();
    } catch (err) {
      // After the 504, a late failure has no one to answer.
      if (this.#settled) return;
      try {
        outcome = this.#host.errorOutcome(err, inv, skill);
      } catch (boundaryErr) {
        // Even the boundary's own log line failed (a broken logger): the caller's promise rejects now,
        // rather than an unhandled rejection here and a 504 at the deadline.
        this.#fail(boundaryErr);
        return;
      }
    }
    this.#settle(outcome);
  }

  /**
   * The user of the invocation. With a handed-over token (the legacy plugin's `accessToken`) the unionId
   * is its owner's as DingTalk reports it; a different unionId named alongside is refused as a
   * security event. Synchronous unless a handed-over token's owner must be looked up.
   */
  #currentUser(): CurrentUser | Promise<CurrentUser> {
    const inv = this.#inv;
    const user: CurrentUser = {
      userId: contextValue(inv, 'userId'),
      unionId: contextValue(inv, 'unionId'),
      jobNum: contextValue(inv, 'jobNum'),
    };
    const { identify } = this.#host.deps.credentials;
    if (inv.trusted === false || !inv.accessToken || !identify) return user;
    return this.#tokenOwner(user, inv.accessToken, identify);
  }

  async #tokenOwner(
    user: CurrentUser,
    accessToken: string,
    identify: NonNullable<CredentialResolver['identify']>,
  ): Promise<CurrentUser> {
    const { deps } = this.#host;
    const owner = await identify.call(deps.credentials, accessToken);
    if (owner && user.unionId && owner !== user.unionId) {
      deps.observer?.identityMismatch?.('accessToken');
      deps.logger.warn(
        {
          event: 'security.identity_mismatch',
          via: 'accessToken',
          requestId: this.#inv.requestId,
          source: this.#inv.source,
          skill: this.#skill.operationId,
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
}

/** The end of the middleware chain: runs the handler and checks its result (no async frame of its own). */
export function runHandler(state: InvocationState): Promise<void> {
  const { skill } = state;
  // A middleware that awaited past the deadline: the 504 has gone, the handler must not run now
  // (for an idempotent skill, a redelivery may already be running it).
  const stopped = (state.ctx as InvocationContext)[abortedBy];
  if (stopped instanceof SkillTimeoutError) return Promise.reject(stopped);
  // Everything that can throw stays inside: the handler, a `then` getter, and the output schema (a
  // zod transform or refine may throw); `next()` must always return a promise, never throw.
  try {
    const result: unknown = skill.handler(state.input, state.ctx);
    if (isThenable(result)) return Promise.resolve(result).then((value) => settleResult(state, value));
    settleResult(state, result);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Sets the outcome from the handler's result, checked against the skill's output schema. */
function settleResult(state: InvocationState, result: unknown): void {
  const { skill } = state;
  if (!skill.output) {
    state.outcome = { kind: 'ok', body: result ?? null };
    return;
  }
  const checked = skill.output.safeParse(result);
  if (checked.success) {
    state.outcome = { kind: 'ok', body: checked.data };
    return;
  }
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
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
