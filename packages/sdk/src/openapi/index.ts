/**
 * openapi/: the typed client of DingTalk's v1.0 OpenAPI. One outbound pipeline (rate limit ->
 * token -> fetch -> error mapping -> retry), the app token, the user-token endpoints, and the
 * "me" APIs called as the user.
 */
export { AppTokenProvider } from './app-token.js';
export { type CallIdentity, createOpenApiClient, type OpenApiClient } from './client.js';
export {
  type OpenApiClientConfig,
  openApiClientConfigSchema,
  parseOpenApiClientConfig,
  type RateLimitOption,
  type ResolvedOpenApiClientConfig,
  type RetryOptions,
} from './config.js';
export {
  classify,
  classifyFailure,
  isOpenApiError,
  isQpsLimitCode,
  OpenApiError,
  type OpenApiErrorInit,
  type OpenApiErrorKind,
  TransportErrorCode,
} from './errors.js';
export { type AppTokenGrant, readAppTokenGrant, readUserTokenGrant, type UserTokenGrant } from './grants.js';
export { OK_CODE, type OpenApiObserver } from './observer.js';
export { type HttpMethod, type OpenApiCall, OpenApiPipeline, type PipelineOptions } from './pipeline.js';
export {
  noRateLimit,
  type RateLimiter,
  WindowRateLimiter,
  type WindowRateLimiterOptions,
} from './rate-limiter.js';
export { staticTokenSource, type TokenSource, type UserTokenSource } from './token-source.js';
export * from './types.js';
export { UserApi } from './user-api.js';
