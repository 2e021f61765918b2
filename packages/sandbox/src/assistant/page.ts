import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml } from '../oauth/html.js';

/** `packages/sandbox/public/assistant/` (the same from `src/assistant` and `dist/assistant`). */
const PUBLIC_DIR = fileURLToPath(new URL('../../public/assistant/', import.meta.url));

/** Content types of the page's files; nothing else is served from the folder. */
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page's files (ES modules one folder per part of the page, styles, the icon): path under the
 * folder -> content type, listed once when the routes are registered. A request names one of these or
 * gets 404 (no path is ever joined from the request).
 */
function listAssets(dir = PUBLIC_DIR, prefix = ''): Map<string, string> {
  const assets = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      for (const [file, type] of listAssets(`${dir}${entry.name}/`, `${prefix}${entry.name}/`))
        assets.set(file, type);
      continue;
    }
    const type = TYPES[extname(entry.name)];
    if (type !== undefined) assets.set(`${prefix}${entry.name}`, type);
  }
  return assets;
}

/** Everything from this origin; no inline script, nothing from the internet. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

async function sendFile(reply: FastifyReply, file: string, type: string): Promise<FastifyReply> {
  const content = await readFile(`${PUBLIC_DIR}${file}`);
  return reply
    .type(type)
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CSP)
    .send(content);
}

/** The assistant page at `/` and its assets at `/assistant/<file>` and `/assistant/<folder>/<file>`. */
export function registerPage(app: FastifyInstance): void {
  app.get('/', async (_req, reply) => sendFile(reply, 'index.html', 'text/html; charset=utf-8'));
  // Browsers ask every page of the origin (the consent page too) for /favicon.ico.
  app.get('/favicon.ico', async (_req, reply) => sendFile(reply, 'favicon.svg', 'image/svg+xml'));
  // Listed on the first request, not at registration: a sandbox bundled without its page folder
  // (a benchmark's esbuild bundle) still starts, and only its page answers 404.
  let assets: Map<string, string> | undefined;
  const asset = async (file: string, reply: FastifyReply) => {
    assets ??= existsSync(PUBLIC_DIR) ? listAssets() : new Map();
    const type = assets.get(file);
    if (type === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return sendFile(reply, file, type);
  };
  app.get<{ Params: { file: string } }>('/assistant/:file', async (req, reply) =>
    asset(req.params.file, reply),
  );
  app.get<{ Params: { folder: string; file: string } }>('/assistant/:folder/:file', async (req, reply) =>
    asset(`${req.params.folder}/${req.params.file}`, reply),
  );
}

/** A small HTML page for the OAuth callback's failures (the browser is there, not a script). */
export function callbackErrorPage(titleZh: string, titleEn: string, detail: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(titleEn)}</title>
<link rel="stylesheet" href="/assistant/style.css"></head>
<body class="callback-error"><main data-testid="callback-error"><h1>${escapeHtml(titleZh)} <small>${escapeHtml(titleEn)}</small></h1>
<p>${escapeHtml(detail)}</p><p><a href="/">返回助理 Back to the assistant</a></p></main></body></html>`;
}
