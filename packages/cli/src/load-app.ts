import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AppDefinition, isAppDefinition } from '@dingtalk-skills/sdk';
import { tsImport } from 'tsx/esm/api';

export class AppLoadError extends Error {}

/** Where an app module lives: a file, or a folder with a package.json `main` or an `app.ts`/`index.ts`. */
export function resolveAppEntry(target: string, cwd = process.cwd()): string {
  const path = resolve(cwd, target);
  if (!existsSync(path)) throw new AppLoadError(`app not found: ${target} (looked at ${path})`);
  if (statSync(path).isFile()) return path;
  const pkgPath = resolve(path, 'package.json');
  if (existsSync(pkgPath)) {
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: string };
    if (pkg.main) return resolve(path, pkg.main);
  }
  for (const name of ['app.ts', 'index.ts', 'app.js', 'index.js']) {
    const candidate = resolve(path, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new AppLoadError(`no app entry in ${path}: add package.json "main", app.ts or index.ts`);
}

/** Loads an app module (TypeScript or JavaScript) and returns its default-exported AppDefinition. */
export async function loadApp(target: string): Promise<{ app: AppDefinition; entry: string }> {
  const entry = resolveAppEntry(target);
  const mod = (await tsImport(pathToFileURL(entry).href, import.meta.url)) as {
    default?: unknown;
    app?: unknown;
  };
  const app = isAppDefinition(mod.default) ? mod.default : isAppDefinition(mod.app) ? mod.app : undefined;
  if (!app) throw new AppLoadError(`${entry} must export default defineApp({ name, skills })`);
  return { app, entry };
}
