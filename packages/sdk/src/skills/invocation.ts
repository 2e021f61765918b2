import type { GraphMethod } from '../protocol/graph.js';
import type { JsonObject } from '../protocol/json.js';

/** Where an invocation came from; decides how its answer is rendered. */
export type InvocationSource = 'graph' | 'plugin' | 'http' | 'mcp';

/**
 * The one envelope every receiver produces (Stream Graph API, Stream legacy plugin, HTTP).
 * The skills app never sees a socket or a frame.
 */
export interface SkillInvocation {
  source: InvocationSource;
  /** Echoed in every answer; the platform's request id where it sends one. */
  requestId: string;
  /** AI plugin ability key (`x-ability-key`, legacy `abilityKey`); routes first when present. */
  abilityKey?: string;
  method?: GraphMethod;
  /** Decoded path (no query), for logs and messages: routing uses `segments`. */
  path?: string;
  /** The path split on `/`, then each segment decoded (see `decodeRequestUri`). */
  segments?: string[];
  /**
   * False when the invocation did not provably come from the platform (an HTTP receiver without
   * authentication): its context parameters are ignored and no user credential is resolved for it.
   */
  trusted?: boolean;
  /** Decoded query parameters. */
  query: Record<string, string | string[]>;
  /** JSON body (Graph/HTTP) or plugin `data`. */
  body: JsonObject;
  /**
   * The user's access token (用户代理凭证) when the platform put one in the plugin data or body.
   * Taken out of `body` by the receiver: never handed to the handler's input, never logged.
   */
  accessToken?: string;
  /** Lower-case headers (Graph request headers or HTTP headers). */
  headers: Record<string, string>;
  pluginId?: string;
  pluginVersion?: string;
  /** Aborts the handler's `ctx.signal` (an MCP client that cancels or goes away). */
  signal?: AbortSignal;
}

/** Takes `accessToken` out of a body or plugin data (mutates `body`), returning it. */
export function extractAccessToken(body: JsonObject): string | undefined {
  const token = body.accessToken;
  if (!('accessToken' in body)) return undefined;
  delete body.accessToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}
