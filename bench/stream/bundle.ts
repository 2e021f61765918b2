/**
 * Builds one plain-JS entry per client (esbuild), so a client process runs without the tsx loader: its RSS
 * and start-up are the client's own. Local TypeScript (bench code, the SDK source for "ours") is bundled;
 * packages from node_modules (ws, dingtalk-stream, pino, zod, ...) stay external and load as installed.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ClientName } from './clients/types.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** Inside node_modules so the bundle resolves the workspace's packages; never committed. */
const OUT_DIR = fileURLToPath(new URL('../../node_modules/.cache/dingtalk-skills-bench/', import.meta.url));

/** Bundles the child entry of `client`; returns the path of the .mjs file. */
export async function bundleClient(client: ClientName): Promise<string> {
  const outfile = `${OUT_DIR}${client}.mjs`;
  await build({
    stdin: {
      contents: `import { start } from './clients/${client}.ts';\nimport { runChild } from './child.ts';\nrunChild(start);\n`,
      resolveDir: HERE,
      sourcefile: `${client}-entry.ts`,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return outfile;
}
