import { OpenApiErrorCode } from '@dingtalk-skills/sdk/protocol';

/**
 * An OpenAPI error answer, thrown anywhere in a route (hooks included) and rendered by the OpenAPI
 * error handler as DingTalk's envelope `{code, message, requestid[, accessdenieddetail]}`.
 */
export class OpenApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly requiredScopes: string[] | undefined;
  constructor(status: number, code: string, message: string, requiredScopes?: string[]) {
    super(message);
    this.name = 'OpenApiFailure';
    this.status = status;
    this.code = code;
    this.requiredScopes = requiredScopes;
  }
}

/** The messages and statuses DingTalk uses (quoted where seen, else the sandbox's wording). */
export const Failures = {
  missingToken: () =>
    new OpenApiFailure(
      400,
      OpenApiErrorCode.MissingToken,
      '缺少参数 x-acs-dingtalk-access-token (the access token header is required)',
    ),
  invalidToken: (detail?: string) =>
    new OpenApiFailure(
      400,
      OpenApiErrorCode.InvalidAuthentication,
      detail ? `不合法的access_token (${detail})` : '不合法的access_token',
    ),
  permissionDenied: (scope: string) =>
    new OpenApiFailure(
      403,
      OpenApiErrorCode.PermissionDenied,
      '没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission',
      [scope],
    ),
  otherUser: () =>
    new OpenApiFailure(
      403,
      'Forbidden.AccessDenied',
      '只能访问授权用户本人的数据 (a user token reaches only its own user: use your unionId or me)',
    ),
  qpsLimit: () =>
    new OpenApiFailure(
      403,
      OpenApiErrorCode.QpsLimitForAppkeyAndApi,
      '该应用调用该接口的频率超过限制 (app QPS limit for this API exceeded; back off about 1 s)',
    ),
  invalidClient: () =>
    new OpenApiFailure(400, OpenApiErrorCode.InvalidClient, '无效的clientId或者clientSecret'),
  missing: (field: string) =>
    new OpenApiFailure(400, `Missing${field}`, `${field} is mandatory for this action.`),
  invalidParameter: (message: string, code: string = OpenApiErrorCode.InvalidParameter) =>
    new OpenApiFailure(400, code, message),
  notFoundApi: () =>
    new OpenApiFailure(
      404,
      'InvalidAction.NotFound',
      'Specified api is not found, please check your url and method.',
    ),
} as const;
