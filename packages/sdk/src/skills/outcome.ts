import { type AuthFailureCode, authFailure, authFailureStatus } from '../protocol/auth-failure.js';
import { type GraphResponse, graphJsonResponse } from '../protocol/graph.js';
import { type PluginResponse, pluginResponse } from '../protocol/plugin.js';

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

/** What an invocation ended with; rendered per source by the functions below. */
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

/**
 * Graph API answer. Authorization: status 400 (InvalidAuthentication) or 403 (permission) with
 * `{success:false, code, requestId}` as the JSON body: the public material shows no Graph form, this is
 * our documented choice (docs/decisions.md, "Answers to the platform").
 */
export function toGraphResponse(outcome: SkillOutcome, requestId: string): GraphResponse {
  return graphJsonResponse(outcomeStatus(outcome), outcomeBody(outcome, requestId));
}

/** Legacy AI plugin answer: `{requestId, result}`, or the failure structure for every non-ok outcome. */
export function toPluginAnswer(
  outcome: SkillOutcome,
  requestId: string,
): PluginResponse | Record<string, unknown> {
  if (outcome.kind === 'ok') return pluginResponse(requestId, outcome.body);
  return outcomeBody(outcome, requestId) as Record<string, unknown>;
}
