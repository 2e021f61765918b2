/** The `code` reported for a 2xx answer. */
export const OK_CODE = 'OK';

/**
 * Told about every OpenAPI attempt, for metrics. Called synchronously; implementations must be cheap and
 * must not throw.
 */
export interface OpenApiObserver {
  /**
   * One attempt of a call ended (a retried call reports each attempt). `api` is `METHOD /path/template`;
   * `status` is the HTTP status (0: no response); `code` is `OK` for a 2xx answer, else DingTalk's error
   * code (`InvalidAuthentication`, ...), a transport code (`NetworkError`, `Timeout`, `InvalidResponse`) or
   * `Http<status>` for an error without a body code.
   */
  callCompleted(api: string, status: number, code: string, seconds: number): void;
}
