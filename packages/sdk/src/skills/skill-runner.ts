import {
  type AuthorizationRequiredError,
  toAuthorizationRequired,
} from '../credentials/authorization-required.js';
import { ErrorCode, isCodedError, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { DeadlineQueue } from './deadlines.js';
import { decodeInput, refuseDotSegments } from './decode-input.js';
import type { AnySkill } from './define-skill.js';
import { SkillAnswerError } from './errors.js';
import { DEFAULT_IDEMPOTENCY_WINDOW_MS, type IdempotentAnswers, invocationKeyOf } from './idempotency.js';
import type { SkillInvocation } from './invocation.js';
import { compose, type InvocationState, type Middleware } from './middleware.js';
import { type SkillObserver, UNROUTED_SKILL } from './observer.js';
import { SkillErrorCode, type SkillOutcome } from './outcome.js';
import type { AppApi, CredentialResolver, TokenSource, UserApi } from './ports.js';
import type { RouteMatch, RouteTable } from './route-table.js';
import { type Finish, keepOutcome, RunningInvocation, runHandler } from './running-invocation.js';

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

/** A fresh 500 each time: outcomes go to callers and observers, who may keep or change them. */
function internalError(): SkillOutcome {
  return { kind: 'error', status: 500, code: SkillErrorCode.InternalError, message: 'internal error' };
}

const asResult: Finish<InvocationResult> = (outcome, _inv, skill) => ({ outcome, skill });

/**
 * Routes, decodes, validates and runs one invocation, and turns whatever happens into a SkillOutcome.
 * Never throws synchronously, and every failure of a skill has a defined answer (the error boundary):
 * the promise rejects only when the app's own parts fail (a logger that throws on a plain line, a
 * `finish` that cannot render even a 500). The run itself, from the validated input to the outcome
 * within the deadline, is a {@link RunningInvocation}.
 */
export class SkillRunner {
  readonly deps: RunnerDeps;
  /** The middleware chain, ending in {@link runHandler}. */
  readonly chain: (state: InvocationState) => Promise<void>;
  /** Every invocation's deadline, on one timer. */
  readonly deadlines = new DeadlineQueue();

  constructor(deps: RunnerDeps) {
    this.deps = deps;
    this.chain = compose(deps.middleware, runHandler);
  }

  /** The skill an invocation names (ability key, else method + path); SkillNotFoundError otherwise. */
  route(inv: SkillInvocation): RouteMatch {
    return this.deps.routes.route(inv);
  }

  /** Runs one invocation to its result (rejects only when the app's logger fails, see above). */
  run(inv: SkillInvocation): Promise<InvocationResult> {
    return this.answer(inv, asResult);
  }

  /**
   * Runs one invocation and answers with `finish` of its outcome (a receiver's rendering), with no
   * promise or closure in between. Rejects only when `finish` cannot render even a 500, or the logger
   * throws.
   */
  answer<T>(inv: SkillInvocation, finish: Finish<T>): Promise<T> {
    const started = performance.now();
    let skill: AnySkill | undefined;
    let outcome: SkillOutcome;
    try {
      const routed = this.route(inv);
      skill = routed.skill;
      refuseDotSegments(routed.params);
      const answers = skill.idempotent ? this.deps.answers?.() : undefined;
      if (answers) return this.#runIdempotent(inv, skill, routed.params, answers, started, finish);
      const input = decodeInput(inv, skill, routed.params);
      return new RunningInvocation(this, inv, skill, input, started, finish, { report: true }).start();
    } catch (err) {
      outcome = this.errorOutcome(err, inv, skill);
    }
    // Never a synchronous throw: callers chain on the promise (e.g. `.finally`).
    try {
      return Promise.resolve(this.conclude(finish, outcome, inv, skill, started, true));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** An `idempotent` skill: a redelivery within the window gets the first answer (IdempotentAnswers). */
  async #runIdempotent<T>(
    inv: SkillInvocation,
    skill: AnySkill,
    params: Record<string, string>,
    answers: IdempotentAnswers,
    started: number,
    finish: Finish<T>,
  ): Promise<T> {
    let outcome: SkillOutcome;
    try {
      const key = invocationKeyOf(inv);
      outcome = await answers.run(
        {
          operationId: skill.operationId,
          key,
          windowMs:
            typeof skill.idempotent === 'object' ? skill.idempotent.windowMs : DEFAULT_IDEMPOTENCY_WINDOW_MS,
          runMs: skill.timeoutMs ?? this.deps.skillTimeoutMs,
          requestId: inv.requestId,
        },
        () => {
          try {
            const input = decodeInput(inv, skill, params);
            const options = { report: false, key };
            return new RunningInvocation(this, inv, skill, input, started, keepOutcome, options).start();
          } catch (err) {
            return Promise.resolve(this.errorOutcome(err, inv, skill));
          }
        },
      );
    } catch (err) {
      outcome = this.errorOutcome(err, inv, skill);
    }
    return this.conclude(finish, outcome, inv, skill, started, true);
  }

  /**
   * `finish` of the outcome (a 500 when that throws, e.g. a body JSON cannot hold), reported to the
   * observer and the log when `report`. Throws only when `finish` fails on the 500 too.
   */
  conclude<T>(
    finish: Finish<T>,
    outcome: SkillOutcome,
    inv: SkillInvocation,
    skill: AnySkill | undefined,
    started: number,
    report: boolean,
  ): T {
    let concluded = outcome;
    let answer: T | undefined;
    let failure: { err: unknown } | undefined;
    try {
      answer = finish(outcome, inv, skill);
    } catch (err) {
      // E.g. a handler without an output schema returned a BigInt or a cycle: JSON cannot hold it.
      this.deps.logger.error(
        { requestId: inv.requestId, skill: skill?.operationId, err: describeThrown(err) },
        'the answer could not be rendered; answering 500',
      );
      concluded = internalError();
      try {
        answer = finish(concluded, inv, skill);
      } catch (again) {
        failure = { err: again };
      }
    }
    // Reported once whatever happened, with the answer the platform got (or the 500 it was meant to get).
    if (report) this.#report(inv, skill, concluded, started);
    if (failure) throw failure.err;
    return answer as T;
  }

  /** Tells the observer and the log how an invocation ended. */
  #report(inv: SkillInvocation, skill: AnySkill | undefined, outcome: SkillOutcome, started: number): void {
    const elapsed = performance.now() - started;
    const { logger, observer } = this.deps;
    observer?.invocationFinished(skill?.operationId ?? UNROUTED_SKILL, inv.source, outcome, elapsed / 1000);
    const failed = outcome.kind === 'error' && outcome.status >= 500;
    // The line is built only when it is written: most apps log at info, and this runs per message.
    if (failed || logger.isLevelEnabled?.('debug') !== false) {
      const line = {
        requestId: inv.requestId,
        source: inv.source,
        skill: skill?.operationId,
        outcome: outcome.kind,
        code: outcome.kind === 'ok' ? undefined : outcome.code,
        ms: Math.round(elapsed * 10) / 10,
      };
      if (failed) logger.warn(line, 'skill invocation failed');
      else logger.debug(line, 'skill invocation');
    }
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
    this.deps.logger.warn(
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
    this.deps.logger.info(
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

  /**
   * The defined answer for anything thrown. When the boundary itself fails (the logger refuses the
   * error, e.g. pino on a frozen Error; a `cause` getter throws), the answer is a 500 all the same, with
   * a log line of plain strings.
   */
  errorOutcome(thrown: unknown, inv: SkillInvocation, skill: AnySkill | undefined): SkillOutcome {
    try {
      return this.#classify(thrown, inv, skill);
    } catch (boundaryErr) {
      this.deps.logger.error(
        {
          requestId: inv.requestId,
          skill: skill?.operationId,
          thrown: describeThrown(thrown),
          boundaryError: describeThrown(boundaryErr),
        },
        'the error boundary failed while answering a failure; answering 500',
      );
      return internalError();
    }
  }

  #classify(thrown: unknown, inv: SkillInvocation, skill: AnySkill | undefined): SkillOutcome {
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
    if (this.deps.onError) {
      try {
        const custom = this.deps.onError(err, inv);
        if (custom) return custom;
      } catch (hookErr) {
        this.deps.logger.error({ requestId: inv.requestId, err: toError(hookErr) }, 'onError hook threw');
      }
    }
    // The whole error goes to the log with the request id; the platform gets a safe message only.
    this.deps.logger.error(
      { requestId: inv.requestId, skill: skill?.operationId, err },
      'skill handler threw',
    );
    return internalError();
  }
}

/** What was thrown, as a plain string a logger can always write (no getters run beyond `message`). */
function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) {
      const { name, message } = thrown as { name: unknown; message: unknown };
      return `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : '(no message)'}`;
    }
    return thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')
      ? String(thrown)
      : `a thrown ${typeof thrown}`;
  } catch (getterErr) {
    // A hostile `name`/`message` getter: the description says so rather than failing the answer.
    return `an error whose ${getterErr instanceof Error ? 'properties throw' : 'description fails'}`;
  }
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
