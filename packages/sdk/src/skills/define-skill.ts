import type { z } from 'zod';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { ContextParam } from '../protocol/context.js';
import type { GraphMethod } from '../protocol/graph.js';
import type { SkillContext } from './context.js';
import { isTimeoutMs, MAX_TIMEOUT_MS } from './deadlines.js';

/** The `x-dingtalk-context` parameters live in protocol/ (the sandbox checks registrations against them). */
export { CONTEXT_PARAMS, type ContextParam } from '../protocol/context.js';

/** An input schema: a flat zod object (one level, as the platform requires for request bodies). */
export type InputSchema = z.ZodObject<z.ZodRawShape>;

/** A skill: one typed declaration drives routing, validation, the handler's context and the spec. */
export interface SkillDefinition<I extends InputSchema = InputSchema, O extends z.ZodType = z.ZodType> {
  /** camelCase (DingTalk's recommendation; PascalCase is accepted with a warning), unique: the action's `operationId`. */
  operationId: string;
  /** Short verb phrase, shown to the model choosing an action. */
  summary: string;
  /** What the skill does and when to use it. */
  description: string;
  /** HTTP method of the Graph API action (default POST). */
  method?: GraphMethod;
  /** Path of the Graph API action, e.g. `/v1/actions/crm/todos`. Defaults to `/v1/actions/<operationId>`. */
  path?: string;
  /** AI plugin ability key (`x-ability-key` / legacy `abilityKey`). Defaults to `operationId`. */
  abilityKey?: string;
  /** Input schema (zod object). Query parameters for GET/DELETE, JSON body for POST/PUT/PATCH. */
  input: I;
  /** Output schema: the keys of the body are the variables an AI card shows. */
  output?: O;
  /**
   * Delegated scopes (x-dingtalk-delegated-scopes) the skill needs, e.g. `['Todo.PersonalTodo.Write']`.
   * A skill with scopes acts as the user: without a usable user token it answers with the
   * authorization-card structure before its handler runs.
   */
  scopes?: string[];
  /** Context parameters the assistant must fill. Default: userId, unionId, corpId, plus oauthAuthCode when scopes are set. */
  context?: ContextParam[];
  /** Deadline for the handler in ms (default: the app's `skillTimeoutMs`). */
  timeoutMs?: number;
  /**
   * Run at most once per invocation: DingTalk sends an unanswered CALLBACK again (within about 60 s),
   * so a handler slower than the platform's wait, or an answer lost with the connection, runs twice.
   * With `true` (window 5 minutes) or `{ windowMs }`, a redelivery with the same `ctx.invocationKey`
   * gets the first run's answer without running the handler (a duplicate arriving while the first run
   * is still going waits for its answer). Only successful answers are remembered. Shared across
   * instances when the app's `answerStore` is (see `createSharedState`).
   */
  idempotent?: boolean | { windowMs: number };
  /**
   * Hints for MCP clients (tool annotations; untrusted hints, not enforcement). GET skills are
   * read-only; otherwise `destructive` defaults to DELETE and `idempotent` to PUT/DELETE.
   */
  annotations?: { destructive?: boolean; idempotent?: boolean; openWorld?: boolean };
  handler: (input: z.output<I>, ctx: SkillContext) => Promise<z.input<O>> | z.input<O>;
}

/** A skill with its defaults filled in. */
export interface Skill<I extends InputSchema = InputSchema, O extends z.ZodType = z.ZodType>
  extends SkillDefinition<I, O> {
  method: GraphMethod;
  path: string;
  abilityKey: string;
  scopes: string[];
  context: ContextParam[];
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds skills of every input/output type.
export type AnySkill = Skill<any, any>;

/** Declares a skill. Fills defaults; checks nothing that needs other skills (the app does that). */
export function defineSkill<I extends InputSchema, O extends z.ZodType = z.ZodType>(
  def: SkillDefinition<I, O>,
): Skill<I, O> {
  if (
    typeof def.idempotent === 'object' &&
    !(Number.isInteger(def.idempotent.windowMs) && def.idempotent.windowMs > 0)
  )
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `skill ${def.operationId}: idempotent.windowMs must be a positive integer of ms`,
    );
  if (def.timeoutMs !== undefined && !isTimeoutMs(def.timeoutMs))
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `skill ${def.operationId}: timeoutMs must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS} (got ${def.timeoutMs})`,
    );
  const scopes = def.scopes ?? [];
  const context =
    def.context ??
    (scopes.length > 0 ? ['userId', 'unionId', 'corpId', 'oauthAuthCode'] : ['userId', 'unionId', 'corpId']);
  return {
    ...def,
    method: def.method ?? 'POST',
    path: def.path ?? `/v1/actions/${def.operationId}`,
    abilityKey: def.abilityKey ?? def.operationId,
    scopes,
    context,
  };
}

/** True for methods whose input travels in the query string. */
export function inputInQuery(method: GraphMethod): boolean {
  return method === 'GET' || method === 'DELETE';
}
