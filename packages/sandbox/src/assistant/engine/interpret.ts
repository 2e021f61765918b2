import { AuthFailureCode, readAuthFailure } from '@dingtalk-skills/sdk/protocol';
import type { SkillCallResult } from '../ports.js';
import type { FoundAction } from '../registry.js';
import { messages } from './messages.js';
import type { AuthCardStep, ErrorStepCode } from './transcript.js';

/** An authorization card to show (`missing` is computed against the user's grant when shown). */
export type CardRequest = Pick<AuthCardStep, 'trigger' | 'code' | 'message'> & {
  missing: string[];
  requested: string[];
  status?: number;
  requestId?: string;
  undeclaredScopes?: string[];
  warning?: string;
};

/** What the assistant does next: end with an error, show a card, or record the skill's result. */
export type Decision =
  | { kind: 'fail'; code: ErrorStepCode; message: string; status?: number; body?: unknown }
  | { kind: 'card'; card: CardRequest }
  | { kind: 'result'; status: number; body: unknown };

/** The facts about one attempt that the decisions depend on. */
export interface AttemptFacts {
  found: FoundAction;
  appName: string;
  /** 1: the first call; 2: the one re-run after consent. */
  attempt: 1 | 2;
  /** The scopes the user has granted to the app; undefined: no grant at all. */
  granted: readonly string[] | undefined;
}

const FAILURE_STEP: Record<string, ErrorStepCode> = {
  noSubscriber: 'skillUnavailable',
  unknownApp: 'skillUnavailable',
  connectionNotOpen: 'skillUnavailable',
  timeout: 'skillTimeout',
  badResponse: 'badResponse',
  malformedAck: 'badResponse',
};

export function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** `requiredScopes` a skill may pass along (`requiredScopes` or the OpenAPI's `accessdenieddetail`). */
function requiredScopesOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as Record<string, unknown>;
  const detail = b.accessdenieddetail as Record<string, unknown> | undefined;
  const list = b.requiredScopes ?? detail?.requiredScopes;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string' && s !== '') : [];
}

/**
 * Before the call. Platform-triggered: the action declares delegated scopes the user has not granted
 * to this app, so the platform shows a card (or, right after consent, gives up) without calling the
 * skill. A legacy AI plugin triggers the card itself (seed: "AI 插件服务端触发"): it is always called.
 * Undefined: call the skill.
 */
export function checkGrant(facts: AttemptFacts): Decision | undefined {
  const { action, skills } = facts.found;
  if (action.delegatedScopes.length === 0 || skills.legacyPlugin !== undefined) return undefined;
  const { granted } = facts;
  const missing = action.delegatedScopes.filter((s) => !granted?.includes(s));
  if (missing.length === 0) return undefined;
  if (facts.attempt === 2)
    return { kind: 'fail', code: 'consentIncomplete', message: messages.consentIncomplete(missing) };
  return {
    kind: 'card',
    card: {
      trigger: 'platform',
      code: granted === undefined ? AuthFailureCode.InvalidAuthentication : AuthFailureCode.PermissionDenied,
      missing,
      requested: missing,
      message:
        granted === undefined
          ? messages.needsAuthorization(facts.appName, action.summary)
          : messages.needsMorePermissions(facts.appName, missing),
    },
  };
}

/** After the call: what the skill's answer (or the call's failure) means. Pure. */
export function interpret(result: SkillCallResult, facts: AttemptFacts): Decision {
  const { action } = facts.found;
  if (result.kind === 'failed')
    return {
      kind: 'fail',
      code: FAILURE_STEP[result.code] ?? 'transportError',
      message: failureMessage(result, facts),
    };
  const failure = readAuthFailure(result.body);
  if (failure) {
    const required = requiredScopesOf(result.body);
    const undeclared = required.filter((s) => !action.delegatedScopes.includes(s));
    const undeclaredWarning = messages.undeclaredScopes(action.operationId, undeclared);
    if (facts.attempt === 2)
      return {
        kind: 'fail',
        code: 'authorizationFailedAgain',
        message: messages.authorizationFailedAgain(
          failure.code,
          undeclared.length > 0 ? undeclaredWarning : undefined,
        ),
        status: result.status,
        body: result.body,
      };
    const wanted = unique([...action.delegatedScopes, ...required]);
    const granted = facts.granted ?? [];
    return {
      kind: 'card',
      card: {
        trigger: 'skill',
        code: failure.code,
        missing: wanted.filter((s) => !granted.includes(s)),
        requested: wanted,
        status: result.status,
        requestId: failure.requestId,
        ...(undeclared.length > 0 ? { undeclaredScopes: undeclared, warning: undeclaredWarning } : {}),
        message:
          failure.code === AuthFailureCode.InvalidAuthentication
            ? messages.authorizationExpired(facts.appName)
            : messages.lacksPermission(facts.appName),
      },
    };
  }
  if (result.status >= 200 && result.status < 300)
    return { kind: 'result', status: result.status, body: result.body };
  const body = result.body as Record<string, unknown> | null;
  const detail =
    body && typeof body === 'object' && typeof body.message === 'string'
      ? `${typeof body.code === 'string' ? `${body.code}: ` : ''}${body.message}`
      : `status ${result.status}`;
  return {
    kind: 'fail',
    code: 'skillError',
    message: messages.skillError(detail),
    status: result.status,
    body: result.body,
  };
}

function failureMessage(result: Extract<SkillCallResult, { kind: 'failed' }>, facts: AttemptFacts): string {
  const { clientId, document } = facts.found.skills;
  if (result.code === 'noSubscriber') return messages.noSubscriber(facts.appName, clientId, result.message);
  if (result.code === 'timeout') return messages.callTimeout(result.message);
  if (document.protocol === 'http') return messages.httpCallFailed(document.serverUrl, result.message);
  return messages.callFailed(result.code, result.message);
}
