/** Our consent page: which MCP client, which DingTalk permissions, where it sends the answer (中文 + English). */

function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** Headers of every page of ours: no framing (clickjacking), nothing external, not cached. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

/**
 * Headers of our consent page. Browsers apply `form-action` to the redirects that follow a form post
 * too, so the approval (302 to DingTalk's login) and the denial (302 to the client's redirect URI)
 * would be blocked by `'self'` alone: their origins are allowed, nothing else.
 */
export function consentPageHeaders(redirectTargets: readonly string[]): Record<string, string> {
  const origins = new Set<string>();
  for (const target of redirectTargets) {
    try {
      const { origin } = new URL(target);
      if (origin !== 'null' && /^https?:/.test(origin)) origins.add(origin);
    } catch {
      // not a URL: nothing to allow
    }
  }
  return {
    ...PAGE_HEADERS,
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${[
      ...origins,
    ]
      .map((o) => ` ${o}`)
      .join('')}; base-uri 'none'; frame-ancestors 'none'`,
  };
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2329}' +
  'code{background:#f2f3f5;padding:0 .25rem}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem}';

export interface ConsentPageInput {
  appName: string;
  clientName: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  nonce: string;
  action: string;
}

export function renderConsentPage(p: ConsentPageInput): string {
  const scopes = p.scopes.length
    ? p.scopes.map((s) => `<li><code>${esc(s)}</code></li>`).join('')
    : '<li>仅登录身份 (sign-in identity only)</li>';
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>授权 MCP 客户端 · Authorize an MCP client</title><style>${STYLE}</style></head><body>
<h1>授权 MCP 客户端<br><small>Authorize an MCP client</small></h1>
<p><strong data-client-name>${esc(p.clientName)}</strong> (<code>${esc(p.clientId)}</code>) 请求以您的身份调用 <strong>${esc(p.appName)}</strong> 的技能。<br>
${esc(p.clientName)} asks to call the skills of ${esc(p.appName)} as you.</p>
<p>需要的钉钉权限 (DingTalk permissions it needs):</p><ul data-scopes>${scopes}</ul>
<p>授权结果将发送到 (the answer goes to) <code data-redirect-uri>${esc(p.redirectUri)}</code></p>
<p>下一步将跳转到钉钉登录并确认权限。Next, DingTalk asks you to sign in and confirm these permissions.</p>
<form method="post" action="${esc(p.action)}">
<input type="hidden" name="nonce" value="${esc(p.nonce)}">
<button type="submit" name="decision" value="approve">同意 Allow</button>
<button type="submit" name="decision" value="deny">拒绝 Deny</button>
</form></body></html>`;
}

export function renderErrorPage(zh: string, en: string, detail: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(en)}</title><style>${STYLE}</style></head><body>
<h1>${esc(zh)}<br><small>${esc(en)}</small></h1><p data-error>${esc(detail)}</p></body></html>`;
}
