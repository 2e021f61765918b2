import {
  AuthFailureCode,
  authFailure,
  authFailureStatus,
  isAuthFailureCode,
  readAuthFailure,
} from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';

describe('auth-failure structure', () => {
  it('builds {success:false, code, requestId}', () => {
    expect(authFailure(AuthFailureCode.InvalidAuthentication, 'req-1')).toEqual({
      success: false,
      code: 'InvalidAuthentication',
      requestId: 'req-1',
    });
    expect(JSON.stringify(authFailure(AuthFailureCode.PermissionDenied, 'req-2'))).toBe(
      '{"success":false,"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","requestId":"req-2"}',
    );
  });

  it('pairs InvalidAuthentication with 400 and PermissionDenied with 403', () => {
    expect(authFailureStatus(AuthFailureCode.InvalidAuthentication)).toBe(400);
    expect(authFailureStatus(AuthFailureCode.PermissionDenied)).toBe(403);
  });

  it('knows exactly the two codes that show the authorization card', () => {
    expect(isAuthFailureCode('InvalidAuthentication')).toBe(true);
    expect(isAuthFailureCode('Forbidden.AccessDenied.AccessTokenPermissionDenied')).toBe(true);
    expect(isAuthFailureCode('invalidauthentication')).toBe(false);
    expect(isAuthFailureCode('Forbidden.AccessDenied.QpsLimitForApi')).toBe(false);
    expect(isAuthFailureCode(undefined)).toBe(false);
  });

  it('recognizes the structure in a parsed value', () => {
    expect(
      readAuthFailure({ success: false, code: 'InvalidAuthentication', requestId: 'r', extra: 1 }),
    ).toEqual({ success: false, code: 'InvalidAuthentication', requestId: 'r' });
    expect(
      readAuthFailure({ success: false, code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' }),
    ).toEqual({ success: false, code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', requestId: '' });
    expect(readAuthFailure({ success: false, code: 'InvalidAuthentication', requestId: 7 })).toEqual({
      success: false,
      code: 'InvalidAuthentication',
      requestId: '',
    });
  });

  it.each([
    ['success true', { success: true, code: 'InvalidAuthentication', requestId: 'r' }],
    ['success missing', { code: 'InvalidAuthentication', requestId: 'r' }],
    ['success "false"', { success: 'false', code: 'InvalidAuthentication' }],
    ['another code', { success: false, code: 'SystemError', requestId: 'r' }],
    ['an array', [{ success: false, code: 'InvalidAuthentication' }]],
    ['null', null],
    ['a string', 'InvalidAuthentication'],
  ])('does not see an auth failure in %s', (_label, value) => {
    expect(readAuthFailure(value)).toBeUndefined();
  });
});
