/**
 * Walks an MCP authorization headlessly over HTTP, as a browser would: the app's consent page (同意),
 * then the sandbox's DingTalk consent page as the chosen user, then back through the app's DingTalk
 * callback to the MCP client's redirect URI, whose `code` it returns. Keeps cookies per origin like a
 * browser (the app binds its DingTalk `state` to a cookie).
 */

export type ConsentStepKind = 'app_consent' | 'dingtalk_consent' | 'callback';

export interface ConsentWalkStep {
  kind: ConsentStepKind;
  url: string;
  status: number;
  /** What the page asked for (the scopes listed), when it says. */
  scopes?: string[];
  clientName?: string;
}

export class ConsentWalkError extends Error {
  readonly code = 'ERR_MCP_CONSENT';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ConsentWalkError';
  }
}

/** A tiny cookie jar: name=value per origin (no paths or expiry: enough for one walk). */
export class CookieJar {
  readonly #byOrigin = new Map<string, Map<string, string>>();

  store(url: string, res: Response): void {
    const origin = new URL(url).origin;
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const jar = this.#byOrigin.get(origin) ?? new Map<string, string>();
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      this.#byOrigin.set(origin, jar);
    }
  }

  header(url: string): string | undefined {
    const jar = this.#byOrigin.get(new URL(url).origin);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function attr(html: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(html);
  return m?.[1] === undefined ? undefined : unescapeHtml(m[1]);
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}

/**
 * The text between the first `open` (a tag prefix; the tag ends at the next `>`) and the next `close`.
 * indexOf, not a regex: a lazy or negated-class regex over a hostile page backtracks quadratically.
 */
function between(html: string, open: string, close: string): string | undefined {
  const at = html.indexOf(open);
  if (at === -1) return undefined;
  const start = html.indexOf('>', at + open.length - 1);
  if (start === -1) return undefined;
  const end = html.indexOf(close, start + 1);
  return end === -1 ? undefined : unescapeHtml(html.slice(start + 1, end));
}

function scopesOf(html: string): string[] {
  return [...html.matchAll(/<code>([A-Za-z0-9_.:-]+)<\/code>/g)].map((m) => m[1] as string);
}

export interface WalkOptions {
  /** The sandbox user who signs in at DingTalk's consent page (e.g. `zhangsan`). */
  userId: string;
  /** The MCP client's redirect URI: the walk stops when a redirect points there. */
  redirectUri: string;
  onStep?: (step: ConsentWalkStep) => void;
  jar?: CookieJar;
  /** Most redirects and pages followed (default 12). */
  maxHops?: number;
}

/** Follows `authorizationUrl` to the MCP client's redirect URI, approving both consent pages; returns the code. */
export async function walkConsent(authorizationUrl: string, o: WalkOptions): Promise<string> {
  const jar = o.jar ?? new CookieJar();
  let url = authorizationUrl;
  let init: RequestInit = { method: 'GET' };
  for (let hop = 0; hop < (o.maxHops ?? 12); hop++) {
    if (url.startsWith(o.redirectUri.split('?')[0] as string)) {
      const back = new URL(url);
      const code = back.searchParams.get('code');
      if (!code)
        throw new ConsentWalkError(
          `authorization refused: ${back.searchParams.get('error') ?? 'no code'} ${back.searchParams.get('error_description') ?? ''}`.trim(),
        );
      return code;
    }
    const cookie = jar.header(url);
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) },
    });
    jar.store(url, res);
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      await res.body?.cancel();
      if (!location) throw new ConsentWalkError(`redirect without a Location from ${url}`, res.status);
      if (init.method === 'GET' && /\/callback(\?|$)/.test(new URL(url).pathname + '?'))
        o.onStep?.({ kind: 'callback', url, status: res.status });
      url = new URL(location, url).href;
      init = { method: 'GET' };
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) {
      const detail = between(html, '<p data-error', '</p>') ?? between(html, '<p', '</p>') ?? '';
      throw new ConsentWalkError(`${url} answered ${res.status}: ${detail}`.trim(), res.status);
    }
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
      body: new URLSearchParams(fields).toString(),
    });
    const nonce = attr(html, /name="nonce" value="([^"]*)"/);
    const action = attr(html, /<form method="post" action="([^"]*)"/);
    if (!nonce || !action) throw new ConsentWalkError(`no consent form at ${url}`, res.status);
    if (/name="userId"/.test(html)) {
      o.onStep?.({ kind: 'dingtalk_consent', url, status: res.status, scopes: scopesOf(html) });
      init = form({ nonce, decision: 'approve', userId: o.userId });
    } else {
      const clientName = attr(html, /<strong data-client-name>([^<]*)<\/strong>/);
      o.onStep?.({
        kind: 'app_consent',
        url,
        status: res.status,
        scopes: scopesOf(between(html, '<ul data-scopes', '</ul>') ?? ''),
        ...(clientName ? { clientName } : {}),
      });
      init = form({ nonce, decision: 'approve' });
    }
    url = new URL(action, url).href;
  }
  throw new ConsentWalkError('too many redirects while walking the consent pages');
}
