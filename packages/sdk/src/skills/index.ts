export type { CurrentUser, SkillContext } from './context.js';
export {
  type AnySkill,
  CONTEXT_PARAMS,
  type ContextParam,
  defineSkill,
  type InputSchema,
  type Skill,
  type SkillDefinition,
} from './define-skill.js';
export {
  InvalidInputError,
  type RendersOutcome,
  SkillAnswerError,
  SkillNotFoundError,
  SkillTimeoutError,
  UnauthorizedCallerError,
} from './errors.js';
export {
  type AnswerStore,
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  IdempotentAnswers,
  invocationKeyOf,
} from './idempotency.js';
export type { InvocationSource, SkillInvocation } from './invocation.js';
export { compose, type InvocationState, type Middleware } from './middleware.js';
export { type SkillObserver, UNROUTED_SKILL } from './observer.js';
export {
  type FieldIssue,
  outcomeBody,
  outcomeStatus,
  SkillErrorCode,
  type SkillOutcome,
} from './outcome.js';
export type { AppApi, CredentialResolver } from './ports.js';
export type { CallbackReceiver } from './receivers/callback-receiver.js';
export { decodeGraphInvocation, graphReceiver, toGraphResponse } from './receivers/graph.js';
export {
  createHttpHandler,
  type HttpReceiverAuth,
  type HttpReceiverOptions,
  INSECURE_NO_AUTH,
} from './receivers/http.js';
export { decodePluginInvocation, pluginReceiver, toPluginAnswer } from './receivers/plugin.js';
export type { InvocationResult } from './skill-runner.js';
export { type CallbackLike, type CallbackRegistry, SkillsApp, type SkillsAppOptions } from './skills-app.js';
