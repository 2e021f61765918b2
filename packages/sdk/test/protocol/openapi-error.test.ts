import { OpenApiErrorCode, openApiError, readOpenApiError } from '@dingtalk-skills/sdk/protocol';
import { describe, expect, it } from 'vitest';

describe('openApiError', () => {
  it('builds {code, message, requestid}', () => {
    expect(JSON.stringify(openApiError(OpenApiErrorCode.AuthFailed, '鉴权失败', 'ED203550'))).toBe(
      '{"code":"authFailed","message":"鉴权失败","requestid":"ED203550"}',
    );
  });

  it('adds accessdenieddetail.requiredScopes when given', () => {
    expect(
      openApiError(OpenApiErrorCode.PermissionDenied, 'no permission', 'r1', ['Contact.User.Read']),
    ).toEqual({
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      message: 'no permission',
      requestid: 'r1',
      accessdenieddetail: { requiredScopes: ['Contact.User.Read'] },
    });
  });
});

describe('readOpenApiError', () => {
  it('reads the 401 authFailed body quoted from real traffic', () => {
    expect(
      readOpenApiError(JSON.parse('{"requestid":"ED203550-0000","code":"authFailed","message":"鉴权失败"}')),
    ).toEqual({ code: 'authFailed', message: '鉴权失败', requestid: 'ED203550-0000' });
  });

  it('accepts requestId spelled in camel case, and a missing message or request id', () => {
    expect(readOpenApiError({ code: 'InvalidAuthentication', requestId: 'r2' })).toEqual({
      code: 'InvalidAuthentication',
      message: '',
      requestid: 'r2',
    });
    expect(readOpenApiError({ code: 'SystemError', message: 5 })).toEqual({
      code: 'SystemError',
      message: '',
      requestid: '',
    });
  });

  it('keeps the string scopes of accessdenieddetail', () => {
    expect(
      readOpenApiError({
        code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        message: 'm',
        requestid: 'r',
        accessdenieddetail: { requiredScopes: ['Contact.User.Read', 3, 'Contact.User.mobile'] },
      }),
    ).toEqual({
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      message: 'm',
      requestid: 'r',
      accessdenieddetail: { requiredScopes: ['Contact.User.Read', 'Contact.User.mobile'] },
    });
  });

  it('ignores an accessdenieddetail without a scope array', () => {
    const read = readOpenApiError({ code: 'x', requestid: 'r', accessdenieddetail: { requiredScopes: 'a' } });
    expect(read).toEqual({ code: 'x', message: '', requestid: 'r' });
  });

  it('maps a legacy oapi body {errcode, errmsg} to code = String(errcode)', () => {
    expect(readOpenApiError({ errcode: 40014, errmsg: '不合法的access_token', request_id: 'x' })).toEqual({
      code: '40014',
      message: '不合法的access_token',
      requestid: '',
    });
    expect(readOpenApiError({ errcode: -1 })).toEqual({ code: '-1', message: '', requestid: '' });
  });

  it.each([
    ['a legacy success', { errcode: 0, errmsg: 'ok' }],
    ['a legacy errcode as a string', { errcode: '40014', errmsg: 'x' }],
    ['an empty code', { code: '', message: 'x' }],
    ['a numeric code', { code: 400, message: 'x' }],
    ['a success body', { result: { userId: 'u1' } }],
    ['an array', [{ code: 'x' }]],
    ['null', null],
    ['text', 'authFailed'],
  ])('is undefined for %s', (_label, value) => {
    expect(readOpenApiError(value)).toBeUndefined();
  });
});
