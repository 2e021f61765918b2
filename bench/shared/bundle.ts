/**
 * esbuild helper shared by the suites: bundles one TypeScript entry (a workload run in the bench process,
 * or a child process's entry) with the SDK and the sandbox taken from source (the workspace packages would
 * otherwise resolve to their `dist`, which may be stale) into `node_modules/.cache/dingtalk-skills-bench/`.
 * Packages from node_modules (ws, zod, pino, fastify, undici, dingtalk-stream, ...) stay external and
 * load as installed.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = new URL('../../', import.meta.url);
/** Inside node_modules so a bundle resolves the workspace's packages; never committed. */
const OUT_DIR = fileURLToPath(new URL('node_modules/.cache/dingtalk-skills-bench/', ROOT));
const src = (p: string) => fileURLToPath(new URL(p, ROOT));

/**
 * Bundles `entry` (a path from the repository root, or `{contents, resolveDir}` for a generated entry)
 * into `<OUT_DIR>/<name>/<name>.mjs` (with a chunk per dynamic import); returns the entry's path.
 */
export async function bundle(
  name: string,
  entry: string | { contents: string; resolveDir: string },
): Promise<string> {
  const outdir = `${OUT_DIR}${name}/`;
  await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [src(entry)] }
      : {
          stdin: {
            contents: entry.contents,
            resolveDir: src(entry.resolveDir),
            sourcefile: `${name}-entry.ts`,
            loader: 'ts' as const,
          },
        }),
    // Split at dynamic imports, as the published package (tsc output, one file per module) loads them: a
    // part started on demand (the MCP server and express, loaded by startApp only when `mcp` is set)
    // stays out of a process that never starts it. One file would hoist its package imports to the top.
    outdir,
    entryNames: name,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    alias: {
      // A folder: the root resolves to its index.ts, a subpath (`/protocol`, `/internal`) to its module.
      '@dingtalk-skills/sdk': src('packages/sdk/src'),
      '@dingtalk-skills/sandbox': src('packages/sandbox/src/index.ts'),
    },
    logLevel: 'silent',
  });
  return `${outdir}${name}.mjs`;
}

/** Bundles `entry` and imports it into this process (a fresh module each time). */
export async function importBundled<T>(name: string, entry: string): Promise<T> {
  const file = await bundle(name, entry);
  return (await import(`${pathToFileURL(file).href}?t=${Date.now()}`)) as T;
}
