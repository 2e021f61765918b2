import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppDefinition } from '@dingtalk-skills/sdk';
import { isAppDefinition } from '@dingtalk-skills/sdk/internal';
import { AppLoadError } from './exit-codes.js';
import { loadModule } from './module-hooks.js';
import { validateApp } from './validate-app.js';

export { AppLoadError };

const ENTRY_NAMES = [
  'app.ts',
  'app.mts',
  'app.cts',
  'app.js',
  'index.ts',
  'index.mts',
  'index.cts',
  'index.js',
];

/** Where an app module lives: a file, or a folder with a package.json `main` or an `app.ts`/`index.ts`. */
export function resolveAppEntry(target: string, cwd = process.cwd()): string {
  const path = resolve(cwd, target);
  if (!existsSync(path)) throw new AppLoadError(`app not found: ${target} (looked at ${path})`);
  if (statSync(path).isFile()) return path;
  const pkgPath = resolve(path, 'package.json');
  if (existsSync(pkgPath)) {
    let pkg: { main?: unknown };
    try {
      pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: unknown };
    } catch (err) {
      throw new AppLoadError(`${pkgPath} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof pkg.main === 'string' && pkg.main) {
      const main = resolve(path, pkg.main);
      if (!existsSync(main))
        throw new AppLoadError(`the "main" of ${pkgPath} (${pkg.main}) does not exist (looked at ${main})`);
      return main;
    }
  }
  for (const name of ENTRY_NAMES) {
    const candidate = resolve(path, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new AppLoadError(
    `no app entry in ${path}: add package.json "main", or one of ${ENTRY_NAMES.join(', ')}`,
  );
}

/** The app among a module's exports: `export default`, `module.exports =`, or an export named `app`. */
function findApp(mod: Record<string, unknown>): AppDefinition | undefined {
  const inner = (mod.default ?? undefined) as Record<string, unknown> | undefined;
  const candidates = [mod.default, inner?.default, mod.app, inner?.app];
  return candidates.find(isAppDefinition);
}

function exportNames(mod: Record<string, unknown>): string {
  const names = new Set(Object.keys(mod));
  const inner = mod.default;
  if (inner && typeof inner === 'object') for (const k of Object.keys(inner)) names.add(`default.${k}`);
  return names.size > 0 ? [...names].join(', ') : 'none';
}

/**
 * Loads an app module (TypeScript or JavaScript, from an ES module or a CommonJS package) and returns its
 * AppDefinition, checked by validateApp. Every way it can fail is an AppLoadError that names the file
 * and what was expected.
 */
export async function loadApp(target: string): Promise<{ app: AppDefinition; entry: string }> {
  const entry = resolveAppEntry(target);
  let mod: Record<string, unknown>;
  try {
    mod = await loadModule(entry);
  } catch (err) {
    const e = err as Error & { code?: string };
    const what =
      e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND'
        ? 'a module it imports cannot be found (is it installed?)'
        : e.name === 'TransformError' || e instanceof SyntaxError
          ? 'it has a syntax error'
          : 'it threw while loading';
    throw new AppLoadError(`cannot load the app ${entry}: ${what}:\n${e.message}`);
  }
  const app = findApp(mod);
  if (!app)
    throw new AppLoadError(
      `${entry} has no app: expected \`export default defineApp({ name, skills })\` (or \`module.exports = defineApp(...)\`); its exports: ${exportNames(mod)}`,
    );
  validateApp(app, entry);
  return { app, entry };
}
