import type { InvocationSource } from './invocation.js';
import type { SkillOutcome } from './outcome.js';

/** Skill name reported for an invocation that matched no skill (keeps metric labels bounded). */
export const UNROUTED_SKILL = '(unrouted)';

/**
 * Told how every skill invocation ended, for metrics. Called synchronously; implementations must be
 * cheap and must not throw.
 */
export interface SkillObserver {
  /**
   * An invocation ended. `skill` is the operationId (`UNROUTED_SKILL` when nothing matched);
   * `outcome.kind` is `ok`, `auth` (answered with the authorization-card structure) or `error`.
   */
  invocationFinished(skill: string, source: InvocationSource, outcome: SkillOutcome, seconds: number): void;
  /** A token handed over with the call belonged to another user than the platform named (refused). */
  identityMismatch?(via: 'authCode' | 'accessToken'): void;
}
