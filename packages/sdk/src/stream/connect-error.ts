import { DingTalkSkillsError, type ErrorCode } from '../errors/coded-error.js';

/** Why opening one Stream connection failed. */
export interface ConnectFailure {
  /** HTTP status of `connections/open` or of the WebSocket handshake, when there was one. */
  status?: number;
  /** DingTalk's error code (`authFailed`, ...), when the answer held one. */
  platformCode?: string;
  /** DingTalk's request id, for support tickets. */
  requestId?: string;
  /**
   * True when retrying cannot help without a change on the caller's side (bad credentials, a 4xx
   * other than 408/429). Such a failure makes `start()` reject; later it only slows retries.
   */
  permanent: boolean;
  cause?: unknown;
}

/**
 * Opening a Stream connection failed. `code` is `ERR_CREDENTIALS` when DingTalk rejected the app's
 * credentials, `ERR_CONNECT` otherwise.
 */
export class StreamConnectError extends DingTalkSkillsError {
  readonly status: number | undefined;
  readonly platformCode: string | undefined;
  readonly requestId: string | undefined;
  readonly permanent: boolean;
  constructor(
    code: typeof ErrorCode.Connect | typeof ErrorCode.Credentials,
    message: string,
    f: ConnectFailure,
  ) {
    super(code, message, f.cause === undefined ? undefined : { cause: f.cause });
    this.status = f.status;
    this.platformCode = f.platformCode;
    this.requestId = f.requestId;
    this.permanent = f.permanent;
  }
}
