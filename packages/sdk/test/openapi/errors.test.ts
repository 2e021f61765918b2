import { AuthorizationRequiredError, OpenApiError } from '@dingtalk-skills/sdk';
import { toAuthorizationRequired } from '@dingtalk-skills/sdk/internal';
import { classify, createOpenApiClient, type OpenApiErrorInit } from '@dingtalk-skills/sdk/openapi';
import { describe, expect, it } from 'vitest';

function err(status: number, apiCode: string, extra: Partial<OpenApiErrorInit> = {}): OpenApiError {
  return new OpenApiError({
    status,
    apiCode,
    apiMessage: 'm',
    requestId: 'RID-1',
    api: 'GET /v1.0/x',
    idempotent: true,
    ...extra,
  });
}

describe('OpenApiError classification', () => {
  it.each([
    [400, 'InvalidAuthentication', 'auth', true, false],
    [400, 'AuthenticationFailed.MissingParameter', 'auth', false, false],
    [400, 'invalidClientIdOrSecret', 'auth', false, false],
    [403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', 'permission', true, false],
    [400, 'todo.taskCreate.tokenTypeError', 'permission', false, false],
    [403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', 'rate-limit', false, true],
    [403, 'Forbidden.AccessDenied.QpsLimitForApi', 'rate-limit', false, true],
    [504, 'Http504', 'transient', false, true],
    [503, 'ServiceUnavailable', 'transient', false, true],
    [0, 'NetworkError', 'transient', false, true],
    [0, 'Timeout', 'transient', false, true],
    [500, 'SystemError', 'server', false, true],
    [400, 'InvalidParameter', 'client', false, false],
    [404, 'NotFound', 'client', false, false],
  ] as const)(
    '%i %s -> %s (authFailure %s, retryable when idempotent %s)',
    (status, code, kind, auth, retry) => {
      const e = err(status, code);
      expect(e.kind).toBe(kind);
      expect(classify(e)).toBe(kind);
      expect(e.isAuthFailure).toBe(auth);
      expect(e.isRetryable).toBe(retry);
      expect(e.code).toBe('ERR_OPENAPI');
    },
  );

  it('does not call 5xx retryable for a non-idempotent call, but a QPS limit always is', () => {
    expect(err(500, 'SystemError', { idempotent: false }).isRetryable).toBe(false);
    expect(err(504, 'Http504', { idempotent: false }).isRetryable).toBe(false);
    expect(err(403, 'Forbidden.AccessDenied.QpsLimitForApi', { idempotent: false }).isRetryable).toBe(true);
  });

  it('classifies anything that is not an OpenApiError as client (never retried)', () => {
    expect(classify(new Error('x'))).toBe('client');
    expect(classify(undefined)).toBe('client');
  });

  it('names api, status, code and request id in its message', () => {
    expect(err(400, 'InvalidAuthentication').message).toBe(
      'GET /v1.0/x: HTTP 400 InvalidAuthentication: m (requestId RID-1)',
    );
  });
});

describe('toAuthorizationRequired', () => {
  it('maps InvalidAuthentication (and a missing token) to the InvalidAuthentication card', () => {
    for (const code of ['InvalidAuthentication', 'AuthenticationFailed.MissingParameter']) {
      const mapped = toAuthorizationRequired(err(400, code));
      expect(mapped).toBeInstanceOf(AuthorizationRequiredError);
      expect(mapped).toMatchObject({
        code: 'ERR_AUTHORIZATION_REQUIRED',
        authCode: 'InvalidAuthentication',
        openApiRequestId: 'RID-1',
        status: 400,
      });
      expect(mapped?.toAuthFailure('req-9')).toEqual({
        success: false,
        code: 'InvalidAuthentication',
        requestId: 'req-9',
      });
    }
  });

  it('maps a missing scope with its required scopes', () => {
    const mapped = toAuthorizationRequired(
      err(403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', {
        requiredScopes: ['Calendar.Event.Write'],
      }),
    );
    expect(mapped).toMatchObject({
      authCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requiredScopes: ['Calendar.Event.Write'],
      status: 403,
    });
    expect(mapped?.message).toContain('Calendar.Event.Write');
  });

  it('passes an AuthorizationRequiredError through and leaves other errors alone', () => {
    const already = new AuthorizationRequiredError('InvalidAuthentication');
    expect(toAuthorizationRequired(already)).toBe(already);
    expect(toAuthorizationRequired(err(403, 'Forbidden.AccessDenied.QpsLimitForApi'))).toBeUndefined();
    expect(toAuthorizationRequired(err(500, 'SystemError'))).toBeUndefined();
    expect(toAuthorizationRequired(new Error('x'))).toBeUndefined();
  });
});

describe('createOpenApiClient config', () => {
  it('rejects bad config with ERR_CONFIG naming the fields, never the secret', () => {
    let caught: unknown;
    try {
      createOpenApiClient({
        clientId: '',
        clientSecret: 'super-secret-value',
        apiBase: 'ftp://x',
        maxConnections: 0,
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'ERR_CONFIG' });
    const message = (caught as Error).message;
    expect(message).toMatch(/clientId/);
    expect(message).toMatch(/apiBase/);
    expect(message).toMatch(/maxConnections/);
    expect(message).not.toContain('super-secret-value');
  });
});
