import type { SkillContext } from './context.js';
import type { AnySkill } from './define-skill.js';
import type { SkillInvocation } from './invocation.js';
import type { SkillOutcome } from './outcome.js';

/** What middleware sees: the invocation, the routed skill, the validated input, and (after `next`) the outcome. */
export interface InvocationState {
  readonly invocation: SkillInvocation;
  readonly skill: AnySkill;
  /** The validated input; middleware may replace it before `next()`. */
  input: Record<string, unknown>;
  readonly ctx: SkillContext;
  /** Set by the handler (or by middleware that answers without calling `next`). */
  outcome: SkillOutcome | undefined;
}

/**
 * Runs around the handler, first registered outermost (Koa/grammY style). Call `next()` once to go
 * on; set `state.outcome` and skip `next()` to answer early. A throw becomes the error boundary's answer.
 */
export type Middleware = (state: InvocationState, next: () => Promise<void>) => Promise<void> | void;

/**
 * Composes middleware into one function; `next()` called twice is an error. No async function per
 * level: each level is a plain call whose result is wrapped only when it is not already a promise (a
 * synchronous throw becomes a rejection), so an invocation allocates no promise of its own here.
 */
export function compose(middleware: readonly Middleware[], last: (state: InvocationState) => Promise<void>) {
  if (middleware.length === 0) return last;
  return function run(state: InvocationState): Promise<void> {
    let index = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= index) return Promise.reject(new Error('next() called more than once in one middleware'));
      index = i;
      const mw = middleware[i];
      try {
        if (mw === undefined) return last(state);
        const result = mw(state, () => dispatch(i + 1));
        return result instanceof Promise ? result : Promise.resolve(result);
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
