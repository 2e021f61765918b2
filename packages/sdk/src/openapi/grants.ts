import { z } from 'zod';
import { OpenApiError, TransportErrorCode } from './errors.js';

/** A user access token as issued by `POST /v1.0/oauth2/userAccessToken`. */
export interface UserTokenGrant {
  accessToken: string;
  /** The refresh token; undefined when DingTalk sent none or `""`. Rotates on every refresh. */
  refreshToken: string | undefined;
  /** When the access token expires, ms since the epoch (issue time + `expireIn`). */
  expiresAt: number;
  /** The org the user chose (`scope=openid corpid`), when sent. */
  corpId: string | undefined;
}

/** An app access token as issued by `POST /v1.0/oauth2/accessToken`. */
export interface AppTokenGrant {
  accessToken: string;
  expiresAt: number;
}

const appTokenBody = z.object({ accessToken: z.string().min(1), expireIn: z.number().positive() });
const userTokenBody = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().nullish(),
  expireIn: z.number().positive(),
  corpId: z.string().nullish(),
});

function invalid(api: string, what: string, idempotent: boolean): OpenApiError {
  return new OpenApiError({
    status: 200,
    apiCode: TransportErrorCode.InvalidResponse,
    apiMessage: `${what} is missing accessToken or expireIn`,
    requestId: '',
    api,
    idempotent,
  });
}

/** Reads the app token answer; a body without `accessToken`/`expireIn` is an `InvalidResponse` OpenApiError. */
export function readAppTokenGrant(body: unknown, issuedAt: number, api: string): AppTokenGrant {
  const r = appTokenBody.safeParse(body);
  if (!r.success) throw invalid(api, 'app token response', true);
  return { accessToken: r.data.accessToken, expiresAt: issuedAt + r.data.expireIn * 1000 };
}

/** Reads the user token answer, tolerating `refreshToken: ""` (normalized to undefined). */
export function readUserTokenGrant(body: unknown, issuedAt: number, api: string): UserTokenGrant {
  const r = userTokenBody.safeParse(body);
  if (!r.success) throw invalid(api, 'user token response', false);
  return {
    accessToken: r.data.accessToken,
    refreshToken: r.data.refreshToken || undefined,
    expiresAt: issuedAt + r.data.expireIn * 1000,
    corpId: r.data.corpId || undefined,
  };
}
