import { isPlainObject } from './json.js';

/** The two OpenAPI codes that make the assistant show its authorization card (授权卡片). */
export const AuthFailureCode = {
  /** HTTP 400: the access token is expired or absent; get a new one. */
  InvalidAuthentication: 'InvalidAuthentication',
  /** HTTP 403: the permission (scope) must be requested. */
  PermissionDenied: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
} as const;
export type AuthFailureCode = (typeof AuthFailureCode)[keyof typeof AuthFailureCode];

/** `{success:false, code, requestId}`: passes DingTalk's error code through so the assistant shows the card. */
export interface AuthFailure {
  success: false;
  code: AuthFailureCode;
  requestId: string;
}

export function isAuthFailureCode(code: unknown): code is AuthFailureCode {
  return code === AuthFailureCode.InvalidAuthentication || code === AuthFailureCode.PermissionDenied;
}

/** The HTTP status that goes with each code (400 and 403). */
export function authFailureStatus(code: AuthFailureCode): 400 | 403 {
  return code === AuthFailureCode.PermissionDenied ? 403 : 400;
}

export function authFailure(code: AuthFailureCode, requestId: string): AuthFailure {
  return { success: false, code, requestId };
}

/** Recognizes the structure in any parsed value (a plugin result, a Graph body). */
export function readAuthFailure(value: unknown): AuthFailure | undefined {
  if (!isPlainObject(value) || value.success !== false || !isAuthFailureCode(value.code)) return undefined;
  return {
    success: false,
    code: value.code,
    requestId: typeof value.requestId === 'string' ? value.requestId : '',
  };
}
