import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { type FieldIssue, SkillErrorCode, type SkillOutcome } from './outcome.js';

/**
 * An error that knows the answer it renders (Hono asks `'getResponse' in err`). The runner renders the
 * framework's own: the skill errors below and `AuthorizationRequiredError` (which implements it
 * structurally: credentials does not import skills). It checks the classes rather than the method's
 * presence, so an error of another library that happens to have a `toOutcome` is not trusted with the
 * answer (nor with bypassing `onError`).
 */
export interface RendersOutcome {
  toOutcome(): SkillOutcome;
}

/** An error that knows the answer it renders (like Hono's HTTPException.getResponse()). */
export abstract class SkillAnswerError extends DingTalkSkillsError implements RendersOutcome {
  abstract toOutcome(): SkillOutcome;
}

/** Input failed the skill's schema: 400 naming every failing field. */
export class InvalidInputError extends SkillAnswerError {
  readonly fields: FieldIssue[];
  constructor(fields: FieldIssue[]) {
    super(
      ErrorCode.InvalidInput,
      `invalid input: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`,
    );
    this.fields = fields;
  }
  toOutcome(): SkillOutcome {
    return {
      kind: 'error',
      status: 400,
      code: SkillErrorCode.InvalidParameter,
      message: this.message,
      fields: this.fields,
    };
  }
}

/** No skill for an ability key or method + path: 404. */
export class SkillNotFoundError extends SkillAnswerError {
  constructor(what: string) {
    super(ErrorCode.NotFound, `no skill for ${what}`);
  }
  toOutcome(): SkillOutcome {
    return { kind: 'error', status: 404, code: SkillErrorCode.NotFound, message: this.message };
  }
}

/** The handler did not finish before its deadline: an answer before the platform gives up. */
export class SkillTimeoutError extends SkillAnswerError {
  readonly timeoutMs: number;
  constructor(operationId: string, timeoutMs: number) {
    super(ErrorCode.HandlerTimeout, `skill ${operationId} did not finish within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
  toOutcome(): SkillOutcome {
    return {
      kind: 'error',
      status: 504,
      code: SkillErrorCode.HandlerTimeout,
      message: 'the skill took too long to answer',
    };
  }
}

/** HTTP receiver: the shared secret did not match. */
export class UnauthorizedCallerError extends SkillAnswerError {
  constructor() {
    super(ErrorCode.Credentials, 'missing or wrong shared secret');
  }
  toOutcome(): SkillOutcome {
    return { kind: 'error', status: 401, code: SkillErrorCode.Unauthorized, message: this.message };
  }
}
