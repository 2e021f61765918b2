import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  InvalidGrantError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  OAuthClientInformationFull,
  OAuthTokenRevocationRequest,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Response } from 'express';
import type { Logger } from '../../logging/logger.js';
import { type ClientMetadataDocuments, isMetadataDocumentUrl } from './client-metadata-documents.js';
import { consentPageHeaders, PAGE_HEADERS, renderConsentPage, renderErrorPage } from './consent-page.js';
import { type GrantRecord, hashSecret, type OAuthRecords, randomSecret } from './oauth-records.js';

/** The part of UserTokenManager the authorization server needs. */
export interface DingTalkTokens {
  resolve(input: {
    authCode?: string;
    unionId?: string;
  }): Promise<{ unionId: string | undefined } | undefined>;
  forget(unionId: string): Promise<void>;
}

export interface DingTalkProviderOptions {
  records: OAuthRecords;
  tokens: DingTalkTokens;
  logger: Logger;
  appName: string;
  /** The canonical URI of the MCP endpoint (the only audience our tokens are for). */
  resource: string;
  /** Where our consent page posts. */
  consentAction: string;
  /** DingTalk's login (the consent page's approval redirects there). */
  loginBase?: string;
  /** The DingTalk scopes the skills declare: a client may ask for these and no others. */
  scopesSupported: readonly string[];
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  /** How long a registered client is kept. */
  clientTtlMs: number;
  /** Resolves URL client_ids (CIMD); undefined = only registered clients. */
  documents?: ClientMetadataDocuments | undefined;
}

export const CODE_TTL_MS = 5 * 60_000;
/** How long our consent page and our state toward DingTalk stay valid. */
export const PENDING_TTL_MS = 10 * 60_000;
export const HOUR_MS = 3_600_000;

/** The cookie that binds our consent form to the browser shown the page (`__Host-` over https). */
export function consentPageCookie(secure: boolean): string {
  return secure ? '__Host-mcp-consent-page' : 'mcp-consent-page';
}

/**
 * Our own OAuth 2.1 authorization server behind the SDK's auth router. It federates login to DingTalk
 * (our AppKey, our own state), keeps the DingTalk token server-side under the verified unionId, and
 * mints its own short-lived, audience-bound tokens (stored hashed) with rotating refresh tokens.
 * Never passes a DingTalk token to an MCP client.
 */
export class DingTalkOAuthProvider implements OAuthServerProvider {
  readonly #o: DingTalkProviderOptions;
  readonly clientsStore: OAuthRegisteredClientsStore;

  constructor(options: DingTalkProviderOptions) {
    this.#o = options;
    const { records } = options;
    this.clientsStore = {
      // A URL client_id is a client metadata document (CIMD); anything else was registered (DCR).
      getClient: (clientId) =>
        options.documents && isMetadataDocumentUrl(clientId)
          ? options.documents.get(clientId)
          : records.getClient(clientId),
      registerClient: async (client) => {
        const full: OAuthClientInformationFull = {
          ...client,
          client_id: `mcp-${randomSecret().slice(0, 24)}`,
          client_id_issued_at: Math.floor(Date.now() / 1000),
        };
        await records.putClient(full, options.clientTtlMs);
        options.logger.info(
          { clientId: full.client_id, clientName: full.client_name },
          'mcp: client registered',
        );
        return full;
      },
    };
  }

  /** Shows our consent page (per client) before anything goes to DingTalk. */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response) {
    const o = this.#o;
    // Exact string match (the SDK lets any port through for loopback redirect URIs).
    if (!client.redirect_uris.includes(params.redirectUri)) {
      o.logger.info({ clientId: client.client_id }, 'mcp: authorize refused: redirect_uri not registered');
      res
        .status(400)
        .set(PAGE_HEADERS)
        .send(renderErrorPage('回调地址不匹配', 'Redirect URI mismatch', 'redirect_uri is not registered.'));
      return;
    }
    const resource = params.resource?.href ?? o.resource;
    if (stripSlash(resource) !== stripSlash(o.resource)) {
      res.redirect(
        302,
        withQuery(params.redirectUri, {
          error: 'invalid_target',
          error_description: 'this server issues tokens only for its own MCP endpoint',
          state: params.state,
        }),
      );
      return;
    }
    const scopes = [...new Set(params.scopes ?? [])];
    const unknown = scopes.filter((s) => !o.scopesSupported.includes(s));
    if (unknown.length) {
      o.logger.info({ clientId: client.client_id, unknown }, 'mcp: authorize refused: unknown scopes');
      res.redirect(
        302,
        withQuery(params.redirectUri, {
          error: 'invalid_scope',
          error_description: `not a scope of this server: ${unknown.join(' ')}`.slice(0, 300),
          state: params.state,
        }),
      );
      return;
    }
    const nonce = randomSecret();
    // The consent form only counts from the browser that was shown the page (a SameSite=Lax cookie, so a
    // form another site auto-submits with a nonce it fetched itself does not carry it: consent CSRF).
    const page = randomSecret();
    const secure = o.consentAction.startsWith('https:');
    res.cookie(consentPageCookie(secure), page, {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: '/',
      maxAge: PENDING_TTL_MS,
    });
    await o.records.putPending(
      nonce,
      {
        pageHash: hashSecret(page),
        clientId: client.client_id,
        redirectUri: params.redirectUri,
        codeChallenge: params.codeChallenge,
        ...(params.state === undefined ? {} : { clientState: params.state }),
        scopes,
        resource: o.resource,
      },
      PENDING_TTL_MS,
    );
    res
      .status(200)
      .set(consentPageHeaders([...(o.loginBase ? [o.loginBase] : []), params.redirectUri]))
      .send(
        renderConsentPage({
          appName: o.appName,
          clientName: client.client_name ?? client.client_id,
          clientId: client.client_id,
          redirectUri: params.redirectUri,
          scopes,
          nonce,
          action: o.consentAction,
        }),
      );
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const record = await this.#o.records.peekCode(code);
    if (!record || record.clientId !== client.client_id)
      throw new InvalidGrantError('invalid authorization code');
    return record.codeChallenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _verifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const record = await this.#o.records.takeCode(code);
    if (!record || record.clientId !== client.client_id)
      throw new InvalidGrantError('invalid authorization code');
    if (redirectUri !== undefined && redirectUri !== record.redirectUri)
      throw new InvalidGrantError('redirect_uri does not match the authorization request');
    this.#checkResource(resource, record.resource);
    return this.#mint({
      family: randomSecret(),
      clientId: record.clientId,
      unionId: record.unionId,
      scopes: record.scopes,
      resource: record.resource,
    });
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const o = this.#o;
    const record = await o.records.takeRefreshToken(refreshToken);
    if (!record || record.clientId !== client.client_id || (await o.records.isFamilyDead(record.family)))
      throw new InvalidGrantError('invalid refresh token');
    this.#checkResource(resource, record.resource);
    if (scopes?.some((s) => !record.scopes.includes(s)))
      throw new InvalidRequestError('a refresh cannot add scopes; authorize again');
    // The DingTalk grant behind it must still work, else the client has to send the user to log in again.
    const dingtalk = await o.tokens.resolve({ unionId: record.unionId }).catch(() => undefined);
    if (!dingtalk) {
      o.logger.info(
        { clientId: client.client_id, unionId: record.unionId },
        'mcp: refresh refused: DingTalk grant gone',
      );
      throw new InvalidGrantError('the DingTalk authorization is gone; sign in again');
    }
    return this.#mint({ ...record, scopes: scopes?.length ? scopes : record.scopes });
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const { records } = this.#o;
    const record = await records.getAccessToken(token);
    if (!record || record.expiresAt * 1000 <= Date.now() || (await records.isFamilyDead(record.family)))
      throw new InvalidTokenError('invalid or expired token');
    return {
      token,
      clientId: record.clientId,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      resource: new URL(record.resource),
      extra: { unionId: record.unionId, family: record.family },
    };
  }

  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const { records } = this.#o;
    const at = await records.getAccessToken(request.token);
    if (at?.clientId === client.client_id) await records.deleteAccessToken(request.token);
    const rt = await records.getRefreshToken(request.token);
    if (rt?.clientId === client.client_id) await records.takeRefreshToken(request.token);
  }

  /**
   * Ends an authorization (its refresh token too): after a DingTalk grant died or needs more scopes, a
   * refresh must not paper over it; the client has to send the user through consent again.
   */
  async endAuthorization(family: string): Promise<void> {
    await this.#o.records.killFamily(family, this.#o.refreshTokenTtlSec * 1000);
  }

  #checkResource(resource: URL | undefined, expected: string): void {
    if (resource && stripSlash(resource.href) !== stripSlash(expected))
      throw new InvalidGrantError('the token is not for this resource');
  }

  async #mint(grant: GrantRecord): Promise<OAuthTokens> {
    const o = this.#o;
    const accessToken = randomSecret();
    const refreshToken = randomSecret();
    const expiresAt = Math.floor(Date.now() / 1000) + o.accessTokenTtlSec;
    try {
      await o.records.putAccessToken(accessToken, { ...grant, expiresAt }, o.accessTokenTtlSec * 1000);
      await o.records.putRefreshToken(refreshToken, grant, o.refreshTokenTtlSec * 1000);
    } catch (err) {
      throw new ServerError(`cannot store the token: ${(err as Error).message}`);
    }
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: o.accessTokenTtlSec,
      refresh_token: refreshToken,
      scope: grant.scopes.join(' '),
    };
  }
}

export function stripSlash(uri: string): string {
  return uri.endsWith('/') ? uri.slice(0, -1) : uri;
}

export function withQuery(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}
