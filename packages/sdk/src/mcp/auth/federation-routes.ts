import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logging/logger.js';
import { PAGE_HEADERS, renderErrorPage } from './consent-page.js';
import { CODE_TTL_MS, type DingTalkTokens, PENDING_TTL_MS, withQuery } from './dingtalk-provider.js';
import { hashSecret, type OAuthRecords, randomSecret } from './oauth-records.js';

export interface FederationOptions {
  records: OAuthRecords;
  tokens: DingTalkTokens;
  logger: Logger;
  /** The DingTalk app's AppKey (clientId), sent to DingTalk's login. */
  appKey: string;
  /** `https://login.dingtalk.com` (or the sandbox's base). */
  loginBase: string;
  /** Our callback's absolute URL (registered as a redirect URI of the DingTalk app). */
  callbackUrl: string;
  consentPath: string;
  callbackPath: string;
  /** True when served over https: the cookie gets the `__Host-` prefix and `Secure`. */
  secure: boolean;
}

function page(res: Response, status: number, zh: string, en: string, detail: string): void {
  res
    .status(status)
    .set(PAGE_HEADERS)
    .send(renderErrorPage(zh, en, detail));
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Our consent page's answer and DingTalk's callback. After our consent, the browser gets a cookie and
 * DingTalk gets our own single-use `state`, bound to that cookie: a callback arriving in another
 * browser (another account finishing someone else's flow) is refused. The DingTalk code is exchanged
 * here; the token is filed under the unionId DingTalk reports, and the MCP client only ever gets our code.
 */
export function federationRoutes(o: FederationOptions): Router {
  const router = express.Router();
  const cookieName = o.secure ? '__Host-mcp-consent' : 'mcp-consent';

  router.post(o.consentPath, express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const nonce = str(body.nonce);
    const pending = nonce ? await o.records.takePending(nonce) : undefined;
    if (!pending) {
      page(
        res,
        400,
        '授权请求已失效',
        'Request expired',
        'This authorization request expired or was already answered.',
      );
      return;
    }
    if (str(body.decision) !== 'approve') {
      o.logger.info({ clientId: pending.clientId }, 'mcp: consent denied');
      res.redirect(
        302,
        withQuery(pending.redirectUri, { error: 'access_denied', state: pending.clientState }),
      );
      return;
    }
    const browser = randomSecret();
    const state = randomSecret();
    await o.records.putUpstreamState(state, { ...pending, browserHash: hashSecret(browser) }, PENDING_TTL_MS);
    res.cookie(cookieName, browser, {
      httpOnly: true,
      sameSite: 'lax',
      secure: o.secure,
      path: '/',
      maxAge: PENDING_TTL_MS,
    });
    const scope = ['openid', ...pending.scopes.filter((s) => s !== 'openid')].join(' ');
    o.logger.info(
      { clientId: pending.clientId, scopes: pending.scopes },
      'mcp: consent given; to DingTalk login',
    );
    res.redirect(
      302,
      withQuery(`${o.loginBase}/oauth2/auth`, {
        redirect_uri: o.callbackUrl,
        response_type: 'code',
        client_id: o.appKey,
        scope,
        state,
        prompt: 'consent',
      }),
    );
  });

  router.get(o.callbackPath, async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const state = str(q.state);
    const pending = state ? await o.records.takeUpstreamState(state) : undefined;
    if (!pending) {
      o.logger.warn(
        { event: 'security.state_refused' },
        'mcp: DingTalk callback with an unknown or used state',
      );
      page(
        res,
        400,
        '授权请求无效',
        'Invalid request',
        'Unknown or already used state. Start the sign-in again.',
      );
      return;
    }
    const browser = readCookie(req, cookieName);
    if (!browser || hashSecret(browser) !== pending.browserHash) {
      o.logger.warn(
        { event: 'security.consent_browser_mismatch', clientId: pending.clientId },
        'mcp: DingTalk callback in a browser that did not give our consent; refused',
      );
      page(res, 400, '授权请求无效', 'Invalid request', 'This sign-in was started in another browser.');
      return;
    }
    res.clearCookie(cookieName, { path: '/', secure: o.secure, httpOnly: true, sameSite: 'lax' });
    const authCode = str(q.authCode) ?? str(q.code);
    if (!authCode) {
      const error = str(q.error) ?? 'access_denied';
      res.redirect(302, withQuery(pending.redirectUri, { error, state: pending.clientState }));
      return;
    }
    let unionId: string | undefined;
    try {
      unionId = (await o.tokens.resolve({ authCode }))?.unionId;
    } catch (err) {
      o.logger.warn({ err: (err as Error).message }, 'mcp: DingTalk code exchange failed');
    }
    if (!unionId) {
      page(
        res,
        502,
        '钉钉登录失败',
        'DingTalk sign-in failed',
        'DingTalk did not confirm who signed in. Try again.',
      );
      return;
    }
    const code = randomSecret();
    await o.records.putCode(
      code,
      {
        clientId: pending.clientId,
        unionId,
        scopes: pending.scopes,
        resource: pending.resource,
        codeChallenge: pending.codeChallenge,
        redirectUri: pending.redirectUri,
      },
      CODE_TTL_MS,
    );
    o.logger.info({ clientId: pending.clientId, unionId }, 'mcp: DingTalk sign-in done; code issued');
    res.redirect(302, withQuery(pending.redirectUri, { code, state: pending.clientState }));
  });

  return router;
}
