import type { z } from 'zod';
import {
  AuthorizationRequiredError,
  IdentityMismatchError,
  toAuthorizationRequired,
} from '../credentials/authorization-required.js';
import { ErrorCode, isCodedError, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import { coerceQuery } from './coerce.js';
import type { CurrentUser } from './context.js';
import { type AnySkill, type ContextParam, inputInQuery } from './define-skill.js';
import { InvalidInputError, SkillAnswerError, SkillNotFoundError, SkillTimeoutError } from './errors.js';
import { DEFAULT_IDEMPOTENCY_WINDOW_MS, type IdempotentAnswers, invocationKeyOf } from './idempotency.js';
import type { SkillInvocation } from './invocation.js';
import { abortInvocation, InvocationContext } from './invocation-context.js';
import { compose, type InvocationState, type Middleware } from './middleware.js';
import { type SkillObserver, UNROUTED_SKILL } from './observer.js';
import { type FieldIssue, SkillErrorCode, type SkillOutcome } from './outcome.js';
import type { AppApi, CredentialResolver, TokenSource, UserApi } from './ports.js';
import type { RouteMatch, RouteTable } from './route-table.js';

export interface RunnerDeps {
  routes: RouteTable;
  middleware: Middleware[];
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

function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({
    field: i.path.length ? i.path.map(String).join('.') : '(input)',
    message: i.message,
  }));
}

function firstString(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '') return v[0];
  return undefined;
}

function noToken(): AuthorizationRequiredError {
  return new AuthorizationRequiredError(AuthFailureCode.InvalidAuthentication, {
    message: 'no user token for this invocation: the user must authorize',
  });
}

/**
 * A path parameter of `.` or `..` (sent plain or as `%2E%2E`) is refused with a 400: a handler that
 * puts it into a path of its own (a file, another URL) would climb out of the intended place.
 */
function refuseDotSegments(params: Record<string, string>): void {
  const bad = Object.entries(params).filter(([, v]) => v === '.' || v === '..');
  if (bad.length > 0)
    throw new InvalidInputError(
      bad.map(([field]) => ({ field, message: 'a path parameter cannot be "." or ".."' })),
    );
}

const CONTEXT_KEYS: readonly ContextParam[] = ['userId', 'unionId', 'corpId', 'oauthAuthCode', 'jobNum'];
const CONTEXT_KEY_SET: ReadonlySet<string> = new Set(CONTEXT_KEYS);

/**
 * Routes, decodes, validates and runs one invocation, and turns whatever happens into a SkillOutcome.
 * Never throws: every failure has a defined answer (the error boundary).
 */
export class SkillRunner {
  readonly #deps: RunnerDeps;
  readonly #chain: (state: InvocationState) => Promise<void>;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#chain = compose(deps.middleware, (state) => this.#runHandler(state));
  }

  route(inv: SkillInvocation): RouteMatch {
    const { routes } = this.#deps;
    const segments = inv.segments ?? inv.path?.split('/');
    if (inv.abilityKey) {
      const skill = routes.byAbility(inv.abilityKey);
      // The ability key picks the skill; its path parameters still come from the request's path.
      if (skill) return { skill, params: routes.paramsFor(skill, segments) };
      if (inv.source === 'plugin') throw new SkillNotFoundError(`ability key "${inv.abilityKey}"`);
    }
    if (inv.method && segments) {
      const found = routes.byPath(inv.method, segments);
      if (found) return found;
      throw new SkillNotFoundError(
        inv.abilityKey
          ? `ability key "${inv.abilityKey}" or ${inv.method} ${inv.path}`
          : `${inv.method} ${inv.path}`,
      );
    }
    throw new SkillNotFoundError(inv.abilityKey ? `ability key "${inv.abilityKey}"` : 'this request');
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

  #errorOutcome(thrown: unknown, inv: SkillInvocation, skill: AnySkill | undefined): SkillOutcome {
    const err = toError(thrown);
    if (err instanceof SkillAnswerError) return err.toOutcome();
    const auth = toAuthorizationRequired(err);
    if (auth) {
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
      const out: SkillOutcome = { kind: 'auth', code: auth.authCode };
      if (auth.requiredScopes) out.requiredScopes = auth.requiredScopes;
      return out;
    }
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

  /** Builds the raw input object from query, path params and body, without context params or tokens. */
  #rawInput(inv: SkillInvocation, skill: AnySkill, params: Record<string, string>): Record<string, unknown> {
    const shape = skill.input.shape as Record<string, z.ZodType>;
    const fromQuery = coerceQuery(shape, inv.query);
    const fromPath = coerceQuery(shape, params);
    const body = inv.body as Record<string, unknown>;
    // Later sources win. Copied key by key, leaving out context params and the token, rather than spread
    // and `delete`d afterwards: deleting turns the object into a slow dictionary, which made validating
    // it ~5x slower and promoted every invocation's garbage (bench `skills`).
    const raw: Record<string, unknown> = {};
    const put = (source: Record<string, unknown>) => {
      for (const key of Object.keys(source)) {
        if (key === 'accessToken' || (CONTEXT_KEY_SET.has(key) && !Object.hasOwn(shape, key))) continue;
        if (key === '__proto__')
          Object.defineProperty(raw, key, {
            value: source[key],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else raw[key] = source[key];
      }
    };
    if (inputInQuery(skill.method)) {
      put(body);
      put(fromQuery);
    } else {
      put(fromQuery);
      put(body);
    }
    put(fromPath);
    return raw;
  }

  /**
   * A context parameter: only from the query, where the platform puts what `x-dingtalk-context` names;
   * never from the body (the model fills it) and nothing for an invocation that is not trusted.
   */
  #contextValue(inv: SkillInvocation, key: ContextParam): string | undefined {
    return inv.trusted === false ? undefined : firstString(inv.query[key]);
  }

  /**
   * The user of an invocation. With a handed-over token (the legacy plugin's `accessToken`) the unionId
   * is its owner's as DingTalk reports it; a different unionId named alongside is refused as a
   * security event.
   */
  async #currentUser(inv: SkillInvocation, skill: AnySkill): Promise<CurrentUser> {
    const user: CurrentUser = {
      userId: this.#contextValue(inv, 'userId'),
      unionId: this.#contextValue(inv, 'unionId'),
      jobNum: this.#contextValue(inv, 'jobNum'),
    };
    const { identify } = this.#deps.credentials;
    if (inv.trusted === false || !inv.accessToken || !identify) return user;
    const owner = await identify.call(this.#deps.credentials, inv.accessToken);
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

  async #invoke(
    inv: SkillInvocation,
    skill: AnySkill,
    params: Record<string, string>,
    invocationKey: () => string,
  ): Promise<SkillOutcome> {
    const parsed = skill.input.safeParse(this.#rawInput(inv, skill, params));
    if (!parsed.success) throw new InvalidInputError(zodIssues(parsed.error));

    const user = await this.#currentUser(inv, skill);
    const authCode = this.#contextValue(inv, 'oauthAuthCode');
    const timeoutMs = skill.timeoutMs ?? this.#deps.skillTimeoutMs;
    const deps = this.#deps;

    // The credential: resolved eagerly for skills that declare scopes (no token -> card before the
    // handler runs), lazily on first use otherwise.
    let tokenPromise: Promise<TokenSource | undefined> | undefined;
    const resolveToken = () => {
      // An invocation that did not provably come from the platform never acts as a user.
      if (inv.trusted === false) return Promise.resolve(undefined);
      tokenPromise ??= deps.credentials.resolve({
        ...(inv.accessToken ? { accessToken: inv.accessToken } : {}),
        ...(authCode ? { authCode } : {}),
        ...(user.unionId ? { unionId: user.unionId } : {}),
      });
      return tokenPromise;
    };
    if (skill.scopes.length > 0) {
      const source = await resolveToken();
      if (!source) throw noToken();
    }
    const ctx = new InvocationContext({
      requestId: inv.requestId,
      source: inv.source,
      skill,
      user,
      corpId: this.#contextValue(inv, 'corpId'),
      appApi: deps.appApi,
      logger: deps.logger,
      invocationKey,
      userApi: () =>
        deps.userApiFor({
          // The assistant's unionId fills defaults such as a to-do's executor.
          unionId: user.unionId,
          getToken: async () => {
            const source = await resolveToken();
            if (!source) throw noToken();
            return source.getToken();
          },
          onAuthFailure: async (err, failedToken) => {
            const source = await resolveToken();
            return source?.onAuthFailure ? source.onAuthFailure(err, failedToken) : 'fail';
          },
        }),
    });
    const state: InvocationState = { invocation: inv, skill, input: parsed.data, ctx, outcome: undefined };
    const external = inv.signal;
    const onExternalAbort = () => ctx[abortInvocation](new Error('the caller cancelled the invocation'));
    if (external?.aborted) onExternalAbort();
    else external?.addEventListener('abort', onExternalAbort, { once: true });

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const timedOut = new SkillTimeoutError(skill.operationId, timeoutMs);
        ctx[abortInvocation](timedOut);
        reject(timedOut);
      }, timeoutMs);
    });
    try {
      await Promise.race([this.#chain(state), deadline]);
    } finally {
      clearTimeout(timer);
      external?.removeEventListener('abort', onExternalAbort);
    }
    return (
      state.outcome ?? {
        kind: 'error',
        status: 500,
        code: SkillErrorCode.InternalError,
        message: 'no answer',
      }
    );
  }

  async #runHandler(state: InvocationState): Promise<void> {
    const { skill } = state;
    const result = await skill.handler(state.input, state.ctx);
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

/** True when `err` or one of its causes is an ERR_STATE failure (the shared state store did not answer). */
function causedByState(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    if (isCodedError(e, ErrorCode.State)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
