/** How long things live on the sandbox clock (DingTalk's values; the auth code's is [guess]). */
export const Lifetime = {
  /** User access token: 7200 s. */
  accessTokenMs: 7_200_000,
  /** Refresh token: 30 days, rotated on every use. */
  refreshTokenMs: 30 * 24 * 3_600_000,
  /** App (enterprise) access token: 7200 s. */
  appTokenMs: 7_200_000,
  /** Authorization code: single use, 5 minutes [guess]. */
  authCodeMs: 5 * 60_000,
  /** A consent page left open: its nonce is good for 10 minutes. */
  consentMs: 10 * 60_000,
} as const;
