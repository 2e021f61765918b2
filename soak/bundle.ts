/**
 * Bundles a soak entry (esbuild) with the SDK, the sandbox and the example app from source, so a run
 * never measures a stale `dist` and the app's child process runs plain JavaScript (no tsx loader in its
 * RSS). Packages from node_modules (ws, zod, pino, fastify, better-sqlite3, ...) stay external.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Inside node_modules so the bundle resolves the workspace's packages; never committed. */
const OUT_DIR = `${ROOT}node_modules/.cache/dingtalk-skills-soak/`;

/** Bundles `soak/<entry>.ts` into a per-process `.mjs` file; returns its path. */
export async function bundleEntry(entry: string): Promise<string> {
  const outfile = `${OUT_DIR}${entry}-${process.pid}.mjs`;
  await build({
    entryPoints: [`${ROOT}soak/${entry}.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    alias: {
      '@dingtalk-skills/sdk': `${ROOT}packages/sdk/src/index.ts`,
      '@dingtalk-skills/sandbox': `${ROOT}packages/sandbox/src/index.ts`,
    },
    logLevel: 'silent',
  });
  process.once('exit', () => rmSync(outfile, { force: true }));
  return outfile;
}
