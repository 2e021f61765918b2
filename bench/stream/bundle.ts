/**
 * Builds one plain-JS entry per client (esbuild, through `../shared/bundle.ts`), so a client process runs
 * without the tsx loader: its RSS and start-up are the client's own. The entry hands the client module's
 * `start` to `child.ts`; local TypeScript (bench code, the SDK source for "ours") is bundled, packages from
 * node_modules (ws, dingtalk-stream, pino, zod, ...) stay external and load as installed. Used by the
 * stream and skills suites.
 */
import { bundle } from '../shared/bundle.js';

/**
 * Bundles the child entry running `clientModule` (a path from the repository root, exporting `start`) into
 * `<name>.mjs`; returns the path of the .mjs file.
 */
export function bundleClient(name: string, clientModule: string): Promise<string> {
  return bundle(name, {
    contents: `import { start } from '../../${clientModule}';\nimport { runChild } from './child.ts';\nrunChild(start);\n`,
    resolveDir: 'bench/stream',
  });
}
