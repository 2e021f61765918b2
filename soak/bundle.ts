/**
 * Bundles a soak entry with the SDK, the sandbox and the example app from source (the bench's esbuild
 * helper, `bench/shared/bundle.ts`), so a run never measures a stale `dist` and the app's child process
 * runs plain JavaScript (no tsx loader in its RSS). Packages from node_modules stay external.
 */
import { rmSync } from 'node:fs';
import { bundle } from '../bench/shared/bundle.js';

/** Bundles `soak/<entry>.ts` into a per-process `.mjs` file (removed when this process exits); returns its path. */
export async function bundleEntry(entry: string): Promise<string> {
  const outfile = await bundle(`soak-${entry}-${process.pid}`, `soak/${entry}.ts`);
  process.once('exit', () => rmSync(outfile, { force: true }));
  return outfile;
}
