import { escapeHtml } from './html.js';

const PALETTE = ['#3296fa', '#ff943e', '#15bc83', '#7d6bf2', '#f25643', '#00b2c2'];

/** A round avatar with the name's first character, as SVG (DingTalk shows the same for no-photo users). */
export function avatarSvg(userId: string, name: string): string {
  let hash = 0;
  for (const ch of userId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const color = PALETTE[hash % PALETTE.length];
  const initial = escapeHtml(Array.from(name)[0] ?? '?');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">` +
    `<circle cx="48" cy="48" r="48" fill="${color}"/>` +
    `<text x="48" y="61" font-size="38" text-anchor="middle" fill="#fff" ` +
    `font-family="PingFang SC, Microsoft YaHei, sans-serif">${initial}</text></svg>`
  );
}
