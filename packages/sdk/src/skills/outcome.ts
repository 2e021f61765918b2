import { type AuthFailureCode, authFailure, authFailureStatus } from '../protocol/auth-failure.js';

/** One failing field of an input. */
export interface FieldIssue {
  /** Dotted path of the field (`subject`, `items.0`). */
  field: string;
  message: string;
}

/** Stable codes of error answers (besides DingTalk's two authorization codes). */
export const SkillErrorCode = {
  InvalidParameter: 'InvalidParameter',
  NotFound: 'NotFound',
  InternalError: 'InternalError',
  HandlerTimeout: 'HandlerTimeout',
  Unauthorized: 'Unauthorized',
  InvalidOutput: 'InvalidOutput',
  /** 503: the shared state store (users' tokens) does not answer; try again shortly. */
  StateUnavailable: 'StateUnavailable',
} as const;
export type SkillErrorCode = (typeof SkillErrorCode)[keyof typeof SkillErrorCode];

/** What an invocation ended with; each receiver renders it (`receivers/`), from the two functions below. */
export type SkillOutcome =
  | { kind: 'ok'; body: unknown }
  | { kind: 'auth'; code: AuthFailureCode; requiredScopes?: string[] }
  | { kind: 'error'; status: number; code: SkillErrorCode | string; message: string; fields?: FieldIssue[] };

/** The JSON body of an error or authorization answer (Graph API and HTTP). */
export function outcomeBody(outcome: SkillOutcome, requestId: string): unknown {
  switch (outcome.kind) {
    case 'ok':
      return outcome.body;
    case 'auth':
      // DingTalk's 403 names the missing scopes; passing them on lets the card ask for exactly those.
      return outcome.requiredScopes?.length
        ? { ...authFailure(outcome.code, requestId), requiredScopes: outcome.requiredScopes }
        : authFailure(outcome.code, requestId);
    case 'error': {
      const body: Record<string, unknown> = {
        success: false,
        code: outcome.code,
        message: outcome.message,
        requestId,
      };
      if (outcome.fields) body.fields = outcome.fields;
      return body;
    }
  }
}

export function outcomeStatus(outcome: SkillOutcome): number {
  if (outcome.kind === 'ok') return 200;
  if (outcome.kind === 'auth') return authFailureStatus(outcome.code);
  return outcome.status;
}
