import type { PlatformApp, PlatformUser } from '../platform/repos/index.js';
import { describeScope } from '../platform/scopes.js';
import { html, SafeHtml } from './html.js';

const STYLE = `
:root{--blue:#0089ff;--blue-dark:#0070d1;--ink:#171a1d;--muted:#747677;--line:#e5e6e8;--bg:#f2f3f5}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--ink);
  font:14px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Segoe UI",sans-serif;
  display:flex;flex-direction:column;align-items:center}
header{width:100%;background:#fff;border-bottom:1px solid var(--line);padding:12px 24px;display:flex;align-items:center;gap:10px}
header .brand{font-weight:600;font-size:16px}
header .tag{font-size:12px;color:var(--blue);border:1px solid var(--blue);border-radius:4px;padding:0 6px}
main{width:100%;max-width:440px;margin:40px 16px;background:#fff;border-radius:12px;
  box-shadow:0 4px 24px rgba(0,0,0,.06);padding:32px}
h1{font-size:20px;margin:0 0 20px;text-align:center}
h1 small{display:block;font-size:13px;font-weight:400;color:var(--muted)}
.app{display:flex;align-items:center;gap:12px;padding:12px;border:1px solid var(--line);border-radius:8px}
.app .icon{width:44px;height:44px;border-radius:10px;background:var(--blue);color:#fff;display:flex;
  align-items:center;justify-content:center;font-size:20px;font-weight:600;flex:none}
.app strong{display:block;font-size:15px}
.app span{color:var(--muted);font-size:12px}
.lead{margin:20px 0 8px;color:var(--muted)}
ul.perms{list-style:none;margin:0 0 20px;padding:0}
ul.perms li{padding:8px 0;border-bottom:1px dashed var(--line);display:flex;flex-wrap:wrap;gap:2px 8px;align-items:baseline}
ul.perms li::before{content:"✓";color:var(--blue);font-weight:700}
ul.perms .en{color:var(--muted);font-size:12px}
ul.perms code{margin-left:auto;font-size:11px;color:#a2a3a4}
fieldset{border:0;margin:0 0 20px;padding:0}
legend{color:var(--muted);margin-bottom:8px}
label.account{display:flex;align-items:center;gap:10px;padding:8px 12px;border:1px solid var(--line);
  border-radius:8px;margin-bottom:8px;cursor:pointer}
label.account:has(input:checked){border-color:var(--blue);background:#f0f7ff}
label.account img{width:32px;height:32px;border-radius:50%}
label.account small{display:block;color:var(--muted);font-size:12px}
.actions{display:flex;gap:12px}
button{flex:1;height:40px;border-radius:8px;font-size:15px;cursor:pointer;border:1px solid var(--line);background:#fff;color:var(--ink)}
button.primary{background:var(--blue);border-color:var(--blue);color:#fff}
button.primary:hover{background:var(--blue-dark)}
.fine{margin:16px 0 0;color:var(--muted);font-size:12px;word-break:break-all}
.error{color:#f25643}
footer{color:#a2a3a4;font-size:12px;margin-bottom:24px}
`;

const LOGO = html`<svg width="28" height="28" viewBox="0 0 28 28" aria-hidden="true"><rect width="28" height="28" rx="7" fill="#0089ff"/><path d="M7 9.5c4.5 1.6 9.6 1.9 14.5 1-1.2 2.2-3 3.4-5.2 3.8l2.3.4-4.8 5.8 1-3.9-3.2-.3 2-2.2C10.9 13.7 8.6 12 7 9.5z" fill="#fff"/></svg>`;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${new SafeHtml(STYLE)}</style></head>
<body><header>${LOGO}<span class="brand">钉钉 DingTalk</span><span class="tag">沙箱 Sandbox</span></header>
${body}
<footer>本地沙箱，非真实钉钉 · Local sandbox, not the real DingTalk</footer></body></html>`.html;
}

/** What the consent page shows. */
export interface ConsentView {
  app: PlatformApp;
  corpName: string;
  scopes: readonly string[];
  users: readonly PlatformUser[];
  selectedUserId: string | undefined;
  nonce: string;
  redirectUri: string;
}

/** The consent page (授权登录 / Authorize): the app, its requested permissions, a user to sign in as. */
export function renderConsentPage(v: ConsentView): string {
  const first = Array.from(v.app.name)[0] ?? '?';
  const selected = v.users.some((u) => u.userId === v.selectedUserId) ? v.selectedUserId : v.users[0]?.userId;
  const perms = v.scopes.map((code) => {
    const info = describeScope(code);
    return html`<li><span class="zh">${info.zh}</span><span class="en">${info.en}</span><code>${code}</code></li>`;
  });
  const accounts = v.users.map(
    (u) =>
      html`<label class="account"><input type="radio" name="userId" value="${u.userId}"${
        u.userId === selected ? html` checked` : html``
      } required><img src="/sandbox/avatars/${encodeURIComponent(u.userId)}.svg" alt=""><span>${u.name} ${u.nameEn}<small>${u.userId} · ${u.unionId}</small></span></label>`,
  );
  let target = v.redirectUri;
  try {
    const url = new URL(v.redirectUri);
    target = `${url.origin}${url.pathname}`;
  } catch (err) {
    target = `${v.redirectUri} (${String(err)})`;
  }
  return layout(
    `授权登录 / Authorize ${v.app.name}`,
    html`<main>
<h1>授权登录 <small>Authorize</small></h1>
<div class="app"><div class="icon">${first}</div><div><strong id="app-name">${v.app.name}</strong><span>${v.corpName} · ${v.app.clientId}</span></div></div>
<p class="lead">申请使用你的钉钉账号登录，并获得以下权限<br>wants to sign you in with DingTalk and to:</p>
<ul class="perms" id="permissions">${perms}</ul>
<form method="post" action="/oauth2/auth/decide">
<input type="hidden" name="nonce" value="${v.nonce}">
<fieldset><legend>选择账号登录 / Sign in as</legend>${accounts}</fieldset>
<div class="actions"><button type="submit" name="decision" value="deny" formnovalidate data-testid="consent-deny">拒绝 Deny</button><button type="submit" name="decision" value="approve" class="primary" data-testid="consent-approve">同意授权 Approve</button></div>
</form>
<p class="fine">授权后将返回 / You will return to: ${target}</p>
</main>`,
  );
}

/** An error page: the request cannot go on and nothing is redirected. */
export function renderErrorPage(titleZh: string, titleEn: string, detail: string): string {
  return layout(
    `${titleZh} / ${titleEn}`,
    html`<main><h1 class="error">${titleZh} <small>${titleEn}</small></h1><p id="error-detail">${detail}</p></main>`,
  );
}
