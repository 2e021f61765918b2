import { ControlError, type ControlErrorBody } from '../control/errors.js';
import type { SpecProblem } from './openapi-document/types.js';

/** Stable codes of the assistant's control API errors. */
export const AssistantErrorCode = {
  /** The OpenAPI description could not be read or breaks a rule; `problems` says where. */
  InvalidSpec: 'invalidSpec',
  /** No app with that clientId. */
  UnknownApp: 'unknownApp',
  /** No seed user with that userId. */
  UnknownUser: 'unknownUser',
  /** No registered action with that operationId. */
  UnknownSkill: 'unknownSkill',
  /** No conversation with that id. */
  UnknownConversation: 'unknownConversation',
  /** The OAuth `state` is unknown, used or expired. */
  InvalidState: 'invalidState',
  /** The request itself is malformed (a field names it). */
  InvalidParameter: 'invalidParameter',
} as const;
export type AssistantErrorCode = (typeof AssistantErrorCode)[keyof typeof AssistantErrorCode];

const STATUS: Record<AssistantErrorCode, number> = {
  invalidSpec: 400,
  unknownApp: 404,
  unknownUser: 404,
  unknownSkill: 404,
  unknownConversation: 404,
  invalidState: 400,
  invalidParameter: 400,
};

/** A refused assistant request; the control API answers `status` with `{code, message, field?}`. */
export class AssistantError extends ControlError {
  constructor(code: AssistantErrorCode, message: string, field?: string) {
    super(STATUS[code], code, message, field);
    this.name = 'AssistantError';
  }
}

/** The description failed to parse or validate; lists every problem found. */
export class SkillSpecError extends AssistantError {
  readonly problems: SpecProblem[];
  constructor(problems: SpecProblem[]) {
    super(
      AssistantErrorCode.InvalidSpec,
      `invalid OpenAPI description (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.at}: ${p.message}`).join('\n'),
    );
    this.name = 'SkillSpecError';
    this.problems = problems;
  }

  override body(): ControlErrorBody & { problems: SpecProblem[] } {
    return { ...super.body(), problems: this.problems };
  }
}
