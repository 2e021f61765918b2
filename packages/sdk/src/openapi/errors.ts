import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { AuthFailureCode } from '../protocol/auth-failure.js';
import { OpenApiErrorCode } from '../protocol/openapi-error.js';

/** The few kinds every OpenAPI failure falls into; callers branch on these, not on DingTalk's codes. */
export type OpenApiErrorKind = 'auth' | 'permission' | 'rate-limit' | 'transient' | 'client' | 'server';

/**
 * `apiCode` values for failures that have no DingTalk error body: the request never got an answer,
 * or the answer was not the JSON the API documents.
 */
export const TransportErrorCode = {
  /** The connection failed or broke before a response arrived (`status` 0). */
  Network: 'NetworkError',
  /** No response within `timeoutMs` (`status` 0). */
  Timeout: 'Timeout',
  /** A 2xx answer whose body was not the JSON the API documents. */
  InvalidResponse: 'InvalidResponse',
  /** A 3xx answer: never followed, since the call carries a token or the app secret. */
  Redirect: 'UnexpectedRedirect',
  /** The body was larger than `maxResponseBytes` (the client stopped reading and closed the connection). */
  ResponseTooLarge: 'ResponseTooLarge',
} as const;

/** What the pipeline knows about the failed call. */
export interface OpenApiErrorInit {
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** DingTalk's code (`InvalidAuthentication`, ...), a {@link TransportErrorCode}, or `Http<status>` for a body without one. */
  apiCode: string;
  /** DingTalk's message (never contains secrets). */
  apiMessage: string;
  /** DingTalk's request id (`requestid` in the body, else the `x-acs-request-id` header); '' when unknown. */
  requestId: string;
  /** Scopes named by a 403 `AccessTokenPermissionDenied` (`accessdenieddetail.requiredScopes`). */
  requiredScopes?: string[];
  /** `METHOD /path/template` of the call. */
  api: string;
  /** Whether the call may be repeated safely (GET/PUT/DELETE or marked idempotent). */
  idempotent: boolean;
  cause?: unknown;
}

const QPS_CODES: ReadonlySet<string> = new Set([
  OpenApiErrorCode.QpsLimitForAppkeyAndApi,
  OpenApiErrorCode.QpsLimitForApi,
]);

const AUTH_CODES: ReadonlySet<string> = new Set([
  OpenApiErrorCode.InvalidAuthentication,
  OpenApiErrorCode.MissingToken,
  OpenApiErrorCode.InvalidClient,
  OpenApiErrorCode.AuthFailed,
]);

const PERMISSION_CODES: ReadonlySet<string> = new Set([
  OpenApiErrorCode.PermissionDenied,
  OpenApiErrorCode.TodoTokenTypeError,
]);

/** True when DingTalk's code says the per-app or global QPS limit of one API was hit (HTTP 403). */
export function isQpsLimitCode(apiCode: string): boolean {
  return QPS_CODES.has(apiCode);
}

/** Sorts a failure into an {@link OpenApiErrorKind} from its status and DingTalk code. */
export function classifyFailure(status: number, apiCode: string): OpenApiErrorKind {
  // Answers the client refuses to read: repeating the call gets the same answer.
  if (apiCode === TransportErrorCode.Redirect || apiCode === TransportErrorCode.ResponseTooLarge)
    return 'client';
  if (isQpsLimitCode(apiCode)) return 'rate-limit';
  if (AUTH_CODES.has(apiCode) || status === 401) return 'auth';
  if (PERMISSION_CODES.has(apiCode) || status === 403) return 'permission';
  if (status === 0 || status === 502 || status === 503 || status === 504) return 'transient';
  if (status >= 500) return 'server';
  return 'client';
}

/**
 * DingTalk's OpenAPI answered with an error (non-2xx with its JSON envelope), or no usable answer came.
 * Carries DingTalk's code and request id so logs and the authorization card can name them.
 */
export class OpenApiError extends DingTalkSkillsError {
  /** HTTP status; 0 when no response arrived (network failure, timeout). */
  readonly status: number;
  /** DingTalk's error code string, e.g. `InvalidAuthentication`. */
  readonly apiCode: string;
  /** DingTalk's message. */
  readonly apiMessage: string;
  /** DingTalk's request id ('' when unknown). */
  readonly requestId: string;
  /** Scopes the user must grant (403 `AccessTokenPermissionDenied`). */
  readonly requiredScopes: string[] | undefined;
  /** `METHOD /path/template` of the failed call. */
  readonly api: string;
  /** See {@link classifyFailure}. */
  readonly kind: OpenApiErrorKind;
  /**
   * True for one of the two codes that make the assistant show its authorization card:
   * `InvalidAuthentication` and `Forbidden.AccessDenied.AccessTokenPermissionDenied`.
   */
  readonly isAuthFailure: boolean;
  /** True when repeating the call may succeed: QPS limits always; 5xx/network only for idempotent calls. */
  readonly isRetryable: boolean;

  constructor(init: OpenApiErrorInit) {
    const where = init.status === 0 ? 'no response' : `HTTP ${init.status}`;
    const rid = init.requestId ? ` (requestId ${init.requestId})` : '';
    super(
      ErrorCode.OpenApi,
      `${init.api}: ${where} ${init.apiCode}${init.apiMessage ? `: ${init.apiMessage}` : ''}${rid}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.status = init.status;
    this.apiCode = init.apiCode;
    this.apiMessage = init.apiMessage;
    this.requestId = init.requestId;
    this.requiredScopes = init.requiredScopes;
    this.api = init.api;
    this.kind = classifyFailure(init.status, init.apiCode);
    this.isAuthFailure =
      init.apiCode === AuthFailureCode.InvalidAuthentication ||
      init.apiCode === AuthFailureCode.PermissionDenied;
    this.isRetryable =
      this.kind === 'rate-limit' ||
      (init.idempotent && (this.kind === 'transient' || this.kind === 'server'));
  }
}

/**
 * The kind of any thrown value: an {@link OpenApiError}'s own kind; other errors (bugs, aborted
 * work) count as 'client' so nothing unknown is retried.
 */
export function classify(err: unknown): OpenApiErrorKind {
  return err instanceof OpenApiError ? err.kind : 'client';
}

/** True when `err` is an OpenApiError, optionally with one of DingTalk's codes. */
export function isOpenApiError(err: unknown, apiCode?: string): err is OpenApiError {
  return err instanceof OpenApiError && (apiCode === undefined || err.apiCode === apiCode);
}
