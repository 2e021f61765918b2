/** Messages between the soak (parent: sandbox, traffic, chaos) and the app process (child). */

/** How the child app is configured (passed as JSON in `SOAK_APP_CONFIG`). */
export interface AppProcessConfig {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  /** Stream connections in the pool. */
  connections: number;
  /** The app's outbound OpenAPI limit per API (the SDK's default is DingTalk's 20). */
  appQps: number;
  /**
   * `default`: startApp's own in-memory dedup and token store. Else a state store URL for dedup, tokens
   * and refresh locks, as the CLI's DINGTALK_STATE (`memory:`, `sqlite:<path>` survives restarts).
   */
  state: string;
  /** pino level of the app's log, written to stderr (the parent counts lines by level). */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Handler deadline of a skill (ms). */
  skillTimeoutMs: number;
}

/** Child -> parent. */
export type FromApp =
  /** The app is connected; `pid` for the report. */
  | { type: 'ready'; pid: number }
  /** EVENTs the handler recorded in its ledger since the last message (event ids, in order). */
  | { type: 'handled'; eventIds: string[] }
  /** The app's link went up or down (a live connection, or none). */
  | { type: 'link'; up: boolean; at: number; reason: string }
  /** Answer to `measure`: the lowest RSS over three full GCs 50 ms apart (`gc` false without --expose-gc). */
  | { type: 'memory'; rss: number; heapUsed: number; gc: boolean }
  /** Answer to `counters`. */
  | { type: 'counters'; callbacksHandled: number; connects: number; connectErrors: number }
  /** An uncaught exception or unhandled rejection, sent just before the process dies of it. */
  | { type: 'fatal'; error: string };

/** Parent -> child. */
export type ToApp = { type: 'measure' } | { type: 'counters' } | { type: 'stop' };
