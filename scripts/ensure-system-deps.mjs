#!/usr/bin/env node
// Makes sure the system programs the tests need are present: redis-server (state store tests) and
// Debian's chromium (browser tests). Installs them with apt-get when running as root; otherwise
// stops with the exact command to run. Never downloads a browser build of its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { program: 'redis-server', paths: ['/usr/bin/redis-server'], pkg: 'redis-server' },
  { program: 'chromium', paths: ['/usr/bin/chromium'], pkg: 'chromium' },
  // CJK glyphs for the page screenshots (the labels are Chinese and English).
  {
    program: 'fonts-noto-cjk',
    paths: ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'],
    pkg: 'fonts-noto-cjk',
  },
];

function has(n) {
  if (n.paths.some((p) => existsSync(p))) return true;
  return (
    !n.pkg.startsWith('fonts-') &&
    spawnSync('sh', ['-c', `command -v ${n.program}`], { stdio: 'ignore' }).status === 0
  );
}

const missing = needs.filter((n) => !has(n));
if (missing.length === 0) process.exit(0);
const pkgs = missing.map((n) => n.pkg);
const command = `apt-get update && apt-get install -y ${pkgs.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(`The tests need ${pkgs.join(' and ')}. Install with:\n  sudo ${command}`);
  process.exit(1);
}
console.error(`[ensure-system-deps] installing ${pkgs.join(', ')} with apt-get (needed by the tests)...`);
try {
  execFileSync(
    'sh',
    ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs.join(' ')}`],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
} catch (err) {
  console.error(`[ensure-system-deps] apt-get failed (${err.message}). Run by hand:\n  ${command}`);
  process.exit(1);
}
const still = missing.filter((n) => !has(n));
if (still.length > 0) {
  console.error(
    `[ensure-system-deps] still missing: ${still.map((n) => n.program).join(', ')}. Run:\n  ${command}`,
  );
  process.exit(1);
}
console.error('[ensure-system-deps] done');
