import type { BotDefinition } from '../bots/define-bot.js';
import type { AnySkill } from '../skills/define-skill.js';
import type { SkillInvocation } from '../skills/invocation.js';
import type { Middleware } from '../skills/middleware.js';
import type { SkillOutcome } from '../skills/outcome.js';
import type { StreamEventHandler } from '../stream/handlers.js';

/** Handles an EVENT (e.g. an org change). Return 'LATER' (or throw) to have it delivered again. */
export type EventHandler = StreamEventHandler;

/**
 * A dingtalk-skills app: what `dingtalk-skills dev|start|spec` load from a module's default export.
 * Transport and credentials come from the runtime config, not from here, so one definition runs
 * against the sandbox and against DingTalk unchanged.
 */
export interface AppDefinition {
  /** Shown in the spec's `info.title` and in the sandbox. */
  name: string;
  version?: string;
  description?: string;
  skills: AnySkill[];
  /** Optional chat bot (机器人): messages on `/v1.0/im/bot/messages/get` (see `defineBot`). */
  bot?: BotDefinition;
  /** Optional handler for EVENT frames (topic `*`). */
  onEvent?: EventHandler;
  middleware?: Middleware[];
  onError?: (err: Error, invocation: SkillInvocation) => SkillOutcome | undefined;
}

/** Declares an app (identity function with checking of the obvious). */
export function defineApp(app: AppDefinition): AppDefinition {
  if (!app.name?.trim()) throw new TypeError('defineApp: name is required');
  if (!Array.isArray(app.skills)) throw new TypeError('defineApp: skills must be an array');
  return app;
}

/** True when a module's export looks like an AppDefinition. */
export function isAppDefinition(value: unknown): value is AppDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AppDefinition).name === 'string' &&
    Array.isArray((value as AppDefinition).skills)
  );
}
