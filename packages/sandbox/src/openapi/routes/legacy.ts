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
}
