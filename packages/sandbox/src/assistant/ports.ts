/**
 * What the assistant engine needs from the rest of the sandbox, as small interfaces: the engine is
 * tested against them; `wiring.ts` connects them to the real gateway and platform.
 */
import type { GraphMethod } from '@dingtalk-skills/sdk/protocol';
import type { LegacyPluginRef } from './callers/plugin.js';

/** A person the assistant talks to (a seed user of the sandbox's organization). */
export interface AssistantUser {
  userId: string;
  unionId: string;
  corpId: string;
  name: string;
  nameEn: string;
  jobNum?: string;
}

/** Looks up users and apps. */
export interface Directory {
  user(userId: string): AssistantUser | undefined;
  users(): AssistantUser[];
  /** The app's display name, or undefined when there is no such app. */
  appName(clientId: string): string | undefined;
}

/** A permission code with the labels an authorization card shows. */
export interface ScopeLabel {
  code: string;
  zh: string;
  en: string;
}

/** What the assistant asks the OAuth side for. */
export interface ConsentRequest {
  clientId: string;
  userId: string;
  /** Scope codes to request (space separated in the URL; `openid` first). */
  scopes: string[];
  redirectUri: string;
  state: string;
}

/** The platform's grants, consent page and headless consent. */
export interface AuthorizationPort {
  /** Scopes of the user's active grant for the app; undefined when there is none (or it was revoked). */
  grantedScopes(userId: string, clientId: string): string[] | undefined;
  /** The consent page URL (`/oauth2/auth?...`) for an authorization card's button. */
  consentUrl(request: ConsentRequest): string;
  /**
   * Consents without the page (what "Approve" does): records the grant and returns a fresh,
   * single-use authorization code. Throws when the platform refuses (unknown user or app).
   */
  authorizeHeadless(request: ConsentRequest): { code: string; scopes: string[] };
  /**
   * The user an unused, unexpired authorization code of the app was issued to (the code stays
   * usable); undefined when the code is unknown, used or expired.
   */
  codeOwner(code: string, clientId: string): string | undefined;
  /**
   * The user access token a legacy AI plugin gets in `data.accessToken` (用户代理凭证): with `code`
   * (right after consent) the code is redeemed and a fresh token issued; without, a token for the
   * user's active grant. Undefined when there is no grant (or the code is unknown, used or not theirs).
   */
  pluginAccessToken(userId: string, clientId: string, code?: string): string | undefined;
  /** Registers the assistant's callback as a login redirect URI of the app (idempotent). */
  ensureRedirectUri(clientId: string, uri: string): void;
  describeScope(code: string): ScopeLabel;
}

/** One call of an action, transport-free. */
export interface SkillRequest {
  clientId: string;
  operationId: string;
  method: GraphMethod;
  /** Path plus URL-encoded query. */
  uri: string;
  /** JSON body, or undefined when the action declares none. */
  body: Record<string, unknown> | undefined;
  requestId: string;
  /** Legacy AI plugins: the ability's `data` (the user's input, plus `accessToken` when there is one). */
  pluginData?: Record<string, unknown>;
}

/** What came back from a call. */
export type SkillCallResult =
  | {
      kind: 'answered';
      /** HTTP status of the skill's answer (the Graph response's status line). */
      status: number;
      /** The answer's body: parsed JSON, the raw text when it is not JSON, null when empty. */
      body: unknown;
    }
  | {
      kind: 'failed';
      /** Stable: `noSubscriber`, `timeout`, `connectionLost`, `badResponse`, `network`, ... */
      code: string;
      message: string;
    };

/** Calls an action over its app's transport (Stream callback or HTTP). */
export interface SkillCaller {
  call(
    request: SkillRequest,
    target: { protocol: 'stream' | 'http'; serverUrl?: string; legacyPlugin?: LegacyPluginRef },
  ): Promise<SkillCallResult>;
}
