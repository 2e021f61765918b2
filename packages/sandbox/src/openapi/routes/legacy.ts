import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../platform/platform.js';
import { apiKeyOf } from '../guard.js';

/**
 * The legacy `oapi.dingtalk.com/gettoken`: always HTTP 200, success or not, with `errcode`
 * (0 = ok). Error numbers: 40035 missing parameter, 40089 bad key/secret, 90018 QPS [guess].
 */
export function registerLegacyRoutes(scope: FastifyInstance, platform: Platform): void {
  scope.get('/gettoken', async (request) => {
    const query = request.query as Record<string, unknown>;
    const appkey = typeof query.appkey === 'string' ? query.appkey : '';
    const appsecret = typeof query.appsecret === 'string' ? query.appsecret : '';
    if (appkey === '' || appsecret === '')
      return {
        errcode: 40035,
        errmsg: `不合法的参数: ${appkey === '' ? 'appkey' : 'appsecret'} is required`,
      };
    const app = platform.repos.apps.authenticate(appkey, appsecret);
    if (!app) return { errcode: 40089, errmsg: '不合法的appkey或appsecret' };
    if (!platform.qps.tryAcquire(app.clientId, apiKeyOf(request)))
      return { errcode: 90018, errmsg: '调用频率超过限制 (QPS limit exceeded)' };
    const token = platform.repos.tokens.issueAppToken(app.clientId);
    return { errcode: 0, errmsg: 'ok', access_token: token.accessToken, expires_in: token.expireIn };
  });

  /**
   * `POST /topapi/v2/user/get?access_token=<app token>` `{userid}`: a user of the app's org by userId
   * (staffId), with its `unionid` (how a bot finds the token store key of a message's sender).
   * Errors: 88 / 40014 bad token [guess: 40014], 60121 no such user, 60011 another org's user.
   */
  scope.post('/topapi/v2/user/get', async (request) => {
    const query = request.query as Record<string, unknown>;
    const token = typeof query.access_token === 'string' ? query.access_token : '';
    const resolved = token ? platform.repos.tokens.resolveAccessToken(token) : undefined;
    if (resolved?.kind !== 'app') return { errcode: 40014, errmsg: '不合法的access_token' };
    if (!platform.qps.tryAcquire(resolved.clientId, apiKeyOf(request)))
      return { errcode: 90018, errmsg: '调用频率超过限制 (QPS limit exceeded)' };
    const body = (request.body ?? {}) as Record<string, unknown>;
    const userId = typeof body.userid === 'string' ? body.userid : '';
    if (userId === '') return { errcode: 40035, errmsg: '不合法的参数: userid is required' };
    const user = platform.repos.users.byUserId(userId);
    if (!user) return { errcode: 60121, errmsg: '找不到该用户' };
    const app = platform.repos.apps.get(resolved.clientId);
    if (app && app.corpId !== user.corpId) return { errcode: 60011, errmsg: '管理员权限不足 (another org)' };
    return {
      errcode: 0,
      errmsg: 'ok',
      result: { userid: user.userId, unionid: user.unionId, name: user.name },
      request_id: request.id,
    };
  });
}
