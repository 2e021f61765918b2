import { isPlainObject } from './json.js';

/** DingTalk OpenAPI (v1.0) error body: non-2xx status, JSON, no wrapper. */
export interface OpenApiErrorBody {
  code: string;
  message: string;
  requestid: string;
  /** Set on 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied`. */
  accessdenieddetail?: { requiredScopes: string[] };
}

/** Codes of the v1.0 OpenAPI used across the project. */
export const OpenApiErrorCode = {
  InvalidAuthentication: 'InvalidAuthentication',
  MissingToken: 'AuthenticationFailed.MissingParameter',
  PermissionDenied: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
  QpsLimitForAppkeyAndApi: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
  QpsLimitForApi: 'Forbidden.AccessDenied.QpsLimitForApi',
  AuthFailed: 'authFailed',
  InvalidClient: 'invalidClientIdOrSecret',
  AuthCodeNotFound: 'invalidParameter.authCode.notFound',
  RefreshTokenNotFound: 'invalidParameter.refreshToken.notFound',
  TodoTokenTypeError: 'todo.taskCreate.tokenTypeError',
  TodoParamError: 'todo.taskCreate.paramError',
  InvalidParameter: 'InvalidParameter',
  NotFound: 'NotFound',
  SystemError: 'SystemError',
} as const;

export function openApiError(
  code: string,
  message: string,
  requestid: string,
  requiredScopes?: string[],
): OpenApiErrorBody {
  const body: OpenApiErrorBody = { code, message, requestid };
  if (requiredScopes) body.accessdenieddetail = { requiredScopes };
  return body;
}

/**
 * Reads an error body leniently: `requestid` or `requestId`; legacy `oapi` bodies
 * (`{errcode, errmsg}`) map to code = String(errcode). Returns undefined when it is not an error body.
 */
export function readOpenApiError(value: unknown): OpenApiErrorBody | undefined {
  if (!isPlainObject(value)) return undefined;
  if (typeof value.code === 'string' && value.code !== '') {
    const out: OpenApiErrorBody = {
      code: value.code,
      message: typeof value.message === 'string' ? value.message : '',
      requestid:
        typeof value.requestid === 'string'
          ? value.requestid
          : typeof value.requestId === 'string'
            ? value.requestId
            : '',
    };
    const detail = value.accessdenieddetail;
    if (isPlainObject(detail) && Array.isArray(detail.requiredScopes))
      out.accessdenieddetail = {
        requiredScopes: detail.requiredScopes.filter((s): s is string => typeof s === 'string'),
      };
    return out;
  }
  if (typeof value.errcode === 'number' && value.errcode !== 0) {
    return {
      code: String(value.errcode),
      message: typeof value.errmsg === 'string' ? value.errmsg : '',
      requestid: '',
    };
  }
  return undefined;
}
