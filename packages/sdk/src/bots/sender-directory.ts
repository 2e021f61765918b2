import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';
import type { OpenApiClient } from '../openapi/client.js';
import { trimTrailingSlashes } from '../protocol/url.js';

/** Where the legacy `topapi` APIs live (`oapi.dingtalk.com`). */
export const DEFAULT_OAPI_BASE = 'https://oapi.dingtalk.com';
const USER_GET_PATH = '/topapi/v2/user/get';

/**
 * The unionId of a message's sender, from the platform's `senderStaffId`: asked of DingTalk with the
 * app token (`POST /topapi/v2/user/get {userid}` → `result.unionid`), remembered 10 minutes (bounded).
 * Tokens are filed by unionId, so this is the only way from a chat message to a stored token.
 */
export class SenderDirectory {
  readonly #cache = new Map<string, { unionId: string; until: number }>();
  readonly #openapi: OpenApiClient;
  readonly #oapiBase: string;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;

  constructor(options: {
    openapi: OpenApiClient;
    oapiBase: string;
    now?: () => number;
    fetch?: typeof fetch;
  }) {
    this.#openapi = options.openapi;
    this.#oapiBase = trimTrailingSlashes(options.oapiBase);
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
  }

  async unionIdOf(staffId: string): Promise<string> {
    const now = this.#now();
    const hit = this.#cache.get(staffId);
    if (hit && hit.until > now) return hit.unionId;
    const token = await this.#openapi.app.getAccessToken();
    const res = await this.#fetch(
      `${this.#oapiBase}${USER_GET_PATH}?access_token=${encodeURIComponent(token)}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userid: staffId, language: 'zh_CN' }),
        redirect: 'error',
        signal: AbortSignal.timeout(10_000),
      },
    );
    let body: { errcode?: number; errmsg?: string; result?: { unionid?: string } } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // judged below
    }
    const unionId = body.result?.unionid;
    if (!res.ok || body.errcode !== 0 || typeof unionId !== 'string' || unionId === '')
      throw new DingTalkSkillsError(
        ErrorCode.OpenApi,
        `user/get for the sender failed: HTTP ${res.status} errcode ${body.errcode ?? '-'} ${body.errmsg ?? ''}`.trim(),
      );
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(staffId, { unionId, until: now + 10 * 60_000 });
    return unionId;
  }
}
