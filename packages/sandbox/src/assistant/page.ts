import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml } from '../oauth/html.js';

/** `packages/sandbox/public/assistant/` (the same from `src/assistant` and `dist/assistant`). */
const PUBLIC_DIR = fileURLToPath(new URL('../../public/assistant/', import.meta.url));

/** The page's files: name -> content type. Nothing else is served from the folder. */
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  // The bot chats (机器人会话): ES modules and their styles (public/assistant/chats/).
  'chats/chats.js': 'text/javascript; charset=utf-8',
  'chats/render.js': 'text/javascript; charset=utf-8',
  'chats/markdown.js': 'text/javascript; charset=utf-8',
  'chats/faults.js': 'text/javascript; charset=utf-8',
  'chats/chats.css': 'text/css; charset=utf-8',
};

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

/** The assistant page at `/` and its assets at `/assistant/<file>` and `/assistant/chats/<file>`. */
export function registerPage(app: FastifyInstance): void {
  app.get('/', async (_req, reply) => sendFile(reply, 'index.html', 'text/html; charset=utf-8'));
  // Browsers ask every page of the origin (the consent page too) for /favicon.ico.
  app.get('/favicon.ico', async (_req, reply) => sendFile(reply, 'favicon.svg', 'image/svg+xml'));
  app.get<{ Params: { file: string } }>('/assistant/:file', async (req, reply) => {
    const type = ASSETS[req.params.file];
    if (type === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return sendFile(reply, req.params.file, type);
  });
  app.get<{ Params: { file: string } }>('/assistant/chats/:file', async (req, reply) => {
    const file = `chats/${req.params.file}`;
    const type = ASSETS[file];
    if (type === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return sendFile(reply, file, type);
  });
}

/** A small HTML page for the OAuth callback's failures (the browser is there, not a script). */
export function callbackErrorPage(titleZh: string, titleEn: string, detail: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(titleEn)}</title>
<link rel="stylesheet" href="/assistant/style.css"></head>
<body class="callback-error"><main data-testid="callback-error"><h1>${escapeHtml(titleZh)} <small>${escapeHtml(titleEn)}</small></h1>
<p>${escapeHtml(detail)}</p><p><a href="/">返回助理 Back to the assistant</a></p></main></body></html>`;
}
