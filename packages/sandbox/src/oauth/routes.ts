import type { FastifyInstance, FastifyReply } from 'fastify';
import { PlatformError } from '../platform/errors.js';
import type { Platform } from '../platform/platform.js';
import { withQuery } from '../platform/redirect.js';
import { parseScopeList, SCOPE_CODE_PATTERN } from '../platform/scopes.js';
import { avatarSvg } from './avatar.js';
import { renderConsentPage, renderErrorPage } from './pages.js';

/** Content Security Policy of the pages: nothing external, same-origin framing allowed. */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'self'";

function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .send(page);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The `login.dingtalk.com` part: `GET /oauth2/auth` (validate, show the consent page),
 * `POST /oauth2/auth/decide` (the page's Approve/Deny), and the avatars the page shows.
 */
export async function registerOAuthPages(scope: FastifyInstance, platform: Platform): Promise<void> {
  const log = platform.logger.child({ component: 'oauth' });

  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      done(
        null,
        Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))),
      );
    },
  );

  scope.get('/oauth2/auth', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const clientId = str(q.client_id);
    const redirectUri = str(q.redirect_uri);
    const state = str(q.state);
    const app = clientId ? platform.repos.apps.get(clientId) : undefined;
    if (!app) {
      log.info({ clientId }, 'authorize refused: unknown client_id');
      return sendPage(
        reply,
        400,
        renderErrorPage(
          '应用不存在',
          'Unknown app',
          `client_id "${clientId ?? ''}" is not a registered app.`,
        ),
      );
    }
    if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
      // Never redirect to an unregistered URI: the error stays on this page.
      log.info({ clientId: app.clientId }, 'authorize refused: redirect_uri not registered');
      return sendPage(
        reply,
        400,
        renderErrorPage(
          '回调地址未注册',
          'Redirect URI not registered',
          `redirect_uri "${redirectUri ?? ''}" is not registered for ${app.name} (${app.clientId}). Register it under 登录与分享, or POST /sandbox/apps/${app.clientId}/redirect-uris.`,
        ),
      );
    }
    if (str(q.response_type) !== 'code')
      return reply.redirect(withQuery(redirectUri, { error: 'unsupported_response_type', state }), 302);
    const scopes = parseScopeList(str(q.scope), str(q.x_scopes));
    if (scopes.length === 0 || scopes.some((s) => !SCOPE_CODE_PATTERN.test(s)))
      return reply.redirect(withQuery(redirectUri, { error: 'invalid_scope', state }), 302);

    const nonce = platform.consents.add({
      clientId: app.clientId,
      redirectUri,
      scopes,
      ...(state === undefined ? {} : { state }),
    });
    return sendPage(
      reply,
      200,
      renderConsentPage({
        app,
        corpName: platform.repos.users.corpName(app.corpId) ?? app.corpId,
        scopes,
        users: platform.repos.users.list(),
        selectedUserId: str(q.login_hint),
        nonce,
        redirectUri,
      }),
    );
  });

  scope.post('/oauth2/auth/decide', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const nonce = str(form.nonce);
    const pending = nonce ? platform.consents.take(nonce) : undefined;
    if (!pending)
      return sendPage(
        reply,
        400,
        renderErrorPage(
          '授权请求已失效',
          'Request expired',
          'This authorization request expired or was already answered. Start the sign-in again.',
        ),
      );
    const decision = str(form.decision);
    if (decision === 'deny') {
      log.info({ clientId: pending.clientId }, 'consent denied');
      return reply.redirect(
        withQuery(pending.redirectUri, { error: 'access_denied', state: pending.state }),
        302,
      );
    }
    if (decision !== 'approve')
      return sendPage(
        reply,
        400,
        renderErrorPage('无效的操作', 'Invalid decision', 'decision must be approve or deny.'),
      );
    try {
      const result = platform.authorize({
        userId: str(form.userId) ?? '',
        clientId: pending.clientId,
        scopes: pending.scopes,
        redirectUri: pending.redirectUri,
        ...(pending.state === undefined ? {} : { state: pending.state }),
      });
      return reply.redirect(result.redirect, 302);
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err;
      log.info({ clientId: pending.clientId, field: err.field }, 'consent refused');
      return sendPage(reply, 400, renderErrorPage('授权失败', 'Authorization failed', err.message));
    }
  });

  scope.get<{ Params: { file: string } }>('/sandbox/avatars/:file', async (request, reply) => {
    const userId = request.params.file.replace(/\.svg$/, '');
    const user = platform.repos.users.byUserId(userId);
    if (!user) return reply.code(404).type('text/plain; charset=utf-8').send('no such user');
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(avatarSvg(user.userId, user.name));
  });
}
