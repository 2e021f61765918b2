import { createRequire } from 'node:module';
import type { Agent } from 'undici';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import { CONTROL_BODY_LIMIT } from '../http/read-body.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { AppTokenProvider } from './app-token.js';
import { type OpenApiClientConfig, parseOpenApiClientConfig } from './config.js';
import { readAppTokenGrant, readUserTokenGrant, type UserTokenGrant } from './grants.js';
import { type OpenApiCall, OpenApiPipeline } from './pipeline.js';
import { noRateLimit, type RateLimiter, WindowRateLimiter } from './rate-limiter.js';
import { staticTokenSource, type TokenSource, type UserTokenSource } from './token-source.js';
import { UserApi } from './user-api.js';

const requireHere = createRequire(import.meta.url);

const APP_TOKEN_PATH = '/v1.0/oauth2/accessToken';
const USER_TOKEN_PATH = '/v1.0/oauth2/userAccessToken';

/** Who a generic {@link OpenApiClient.request} call acts as. */
export type CallIdentity = 'app' | 'none' | TokenSource;

/** A typed client of DingTalk's v1.0 OpenAPI. Create with {@link createOpenApiClient}. */
export interface OpenApiClient {
  /** The app's client id (AppKey). */
  readonly clientId: string;
  /** The base URL calls go to. */
  readonly apiBase: string;
  /** The logger the client writes to (child `component: openapi`). */
  readonly logger: Logger;
  /** The app token (企业凭证), cached and single-flight. */
  readonly app: {
    /** `POST /v1.0/oauth2/accessToken`, cached until 5 minutes (configurable) before expiry. */
    getAccessToken(): Promise<string>;
    /** Drops the cached token (only if it is `token`, when given). */
    invalidate(token?: string): void;
    /** The app token as a {@link TokenSource}, for {@link OpenApiClient.request}. */
    readonly tokenSource: TokenSource;
  };
  /** The user-token endpoints (no token header; never retried on 5xx, since codes and refresh tokens are single use). */
  readonly oauth: {
    /** Exchanges an authorization code (`grantType: authorization_code`). */
    exchangeCode(code: string): Promise<UserTokenGrant>;
    /** Refreshes (`grantType: refresh_token`); the answer carries a new, rotated refresh token. */
    refresh(refreshToken: string): Promise<UserTokenGrant>;
  };
  /** The "me" APIs as the user whose token `source` provides; a string is a token used as is. */
  asUser(source: UserTokenSource | string): UserApi;
  /** Any v1.0 call through the same pipeline; resolves to the parsed JSON body. */
  request<T = unknown>(call: OpenApiCall, as: CallIdentity): Promise<T>;
  /** Closes the connection pool (in-flight calls finish first). */
  close(): Promise<void>;
}

/**
 * Creates an OpenAPI client. The config is validated (ERR_CONFIG on bad input); nothing is read
 * from the environment. One keep-alive pool (`maxConnections` per origin) serves every call.
 */
export function createOpenApiClient(config: OpenApiClientConfig): OpenApiClient {
  const c = parseOpenApiClientConfig(config);
  const logger = (
    c.logger ?? createLogger({ name: 'dingtalk-skills', secrets: [c.clientSecret], level: 'info' })
  ).child({ component: 'openapi' });
  const now = c.now ?? Date.now;
  // The connection pool (and undici, ~18 MB of RSS) is made on the first OpenAPI call: a Stream-only
  // app that never calls the OpenAPI never loads it.
  let agent: Agent | undefined;
  const dispatcher = (): Agent => {
    agent ??= new (requireHere('undici') as typeof import('undici')).Agent({ connections: c.maxConnections });
    return agent;
  };
  let limiter: RateLimiter;
  if (c.rateLimit === false) limiter = noRateLimit;
  else if ('acquire' in c.rateLimit) limiter = c.rateLimit;
  else {
    const opts: { qps: number; windowMs?: number } = { qps: c.rateLimit.qps };
    if (c.rateLimit.windowMs !== undefined) opts.windowMs = c.rateLimit.windowMs;
    limiter = new WindowRateLimiter(opts);
  }
  const pipeline = new OpenApiPipeline({
    apiBase: c.apiBase,
    fetch: c.fetch ?? globalThis.fetch,
    dispatcher,
    limiter,
    logger,
    timeoutMs: c.timeoutMs,
    retry: c.retry,
    observer: c.observer,
    maxResponseBytes: c.maxResponseBytes,
    maxTokenResponseBytes: CONTROL_BODY_LIMIT,
  });

  const appToken = new AppTokenProvider(
    async () => {
      const issuedAt = now();
      const body = await pipeline.send(
        {
          method: 'POST',
          path: APP_TOKEN_PATH,
          body: { appKey: c.clientId, appSecret: c.clientSecret },
          idempotent: true,
          tokenEndpoint: true,
        },
        undefined,
      );
      return readAppTokenGrant(body, issuedAt, `POST ${APP_TOKEN_PATH}`);
    },
    c.appTokenMarginMs,
    now,
    logger,
  );

  const userToken = async (grant: Record<string, string>): Promise<UserTokenGrant> => {
    const issuedAt = now();
    const body = await pipeline.send(
      {
        method: 'POST',
        path: USER_TOKEN_PATH,
        body: { clientId: c.clientId, clientSecret: c.clientSecret, ...grant },
        idempotent: false,
        tokenEndpoint: true,
      },
      undefined,
    );
    return readUserTokenGrant(body, issuedAt, `POST ${USER_TOKEN_PATH}`);
  };

  const requireText = (value: unknown, what: string): string => {
    if (typeof value !== 'string' || value === '')
      throw new DingTalkSkillsError(ErrorCode.InvalidInput, `${what} must be a non-empty string`);
    return value;
  };

  let closed = false;
  return {
    clientId: c.clientId,
    apiBase: c.apiBase,
    logger,
    app: {
      getAccessToken: () => appToken.getToken(),
      invalidate: (token) => appToken.invalidate(token),
      tokenSource: appToken,
    },
    oauth: {
      exchangeCode: async (code) =>
        userToken({ code: requireText(code, 'authorization code'), grantType: 'authorization_code' }),
      refresh: async (refreshToken) =>
        userToken({ refreshToken: requireText(refreshToken, 'refresh token'), grantType: 'refresh_token' }),
    },
    asUser: (source) =>
      new UserApi(pipeline, typeof source === 'string' ? staticTokenSource(source) : source),
    request: async <T>(call: OpenApiCall, as: CallIdentity): Promise<T> =>
      (await pipeline.send(call, as === 'none' ? undefined : as === 'app' ? appToken : as)) as T,
    close: async () => {
      if (closed) return;
      closed = true;
      await agent?.close();
    },
  };
}
