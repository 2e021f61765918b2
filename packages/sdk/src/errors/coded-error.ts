/**
 * Stable error codes of dingtalk-skills. Every error the library raises carries one of these, so callers
 * can branch on `err.code` instead of parsing messages. Codes never change meaning once published.
 */
export const ErrorCode = {
  /** A frame, ack or payload did not match the wire protocol. */
  Protocol: 'ERR_PROTOCOL',
  /** The configuration object failed validation. */
  Config: 'ERR_CONFIG',
  /** Opening a Stream connection failed (HTTP or WebSocket handshake). */
  Connect: 'ERR_CONNECT',
  /** DingTalk rejected the app's credentials (`authFailed`, `invalidClientIdOrSecret`). */
  Credentials: 'ERR_CREDENTIALS',
  /** A handler did not finish before its deadline. */
  HandlerTimeout: 'ERR_HANDLER_TIMEOUT',
  /** No handler for a topic, path or ability key. */
  NotFound: 'ERR_NOT_FOUND',
  /** The client is stopping or stopped and takes no new work. */
  Stopped: 'ERR_STOPPED',
  /** DingTalk's OpenAPI answered with an error envelope. */
  OpenApi: 'ERR_OPENAPI',
  /** The user must (re)authorize: the answer that makes the assistant show its authorization card. */
  AuthorizationRequired: 'ERR_AUTHORIZATION_REQUIRED',
  /** Input failed the skill's schema. */
  InvalidInput: 'ERR_INVALID_INPUT',
  /** The shared state store failed (connection lost, closed store, a value of the wrong kind) or a lock wait ran out. */
  State: 'ERR_STATE',
  /** A call would have waited longer than allowed for its turn under the outbound rate limit. */
  RateLimited: 'ERR_RATE_LIMITED',
  /** A response body was larger than the reader allows (it stopped reading and closed the connection). */
  ResponseTooLarge: 'ERR_RESPONSE_TOO_LARGE',
  /** A credential-bearing HTTP call was answered with a redirect, which is never followed. */
  Redirect: 'ERR_REDIRECT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: every error thrown by dingtalk-skills has a stable `code` and an optional `cause`. */
export class DingTalkSkillsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a dingtalk-skills error, optionally of one code. */
export function isCodedError(err: unknown, code?: ErrorCode): err is DingTalkSkillsError {
  return err instanceof DingTalkSkillsError && (code === undefined || err.code === code);
}

/** Turns anything thrown into an Error, without losing what was thrown (`cause`). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let text: string;
  try {
    text = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    text = Object.prototype.toString.call(thrown);
  }
  return new Error(`non-Error thrown: ${text}`, { cause: thrown });
}
