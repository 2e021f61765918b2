import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register as registerEsm } from 'tsx/esm/api';

const require = createRequire(import.meta.url);
type Loader = (module: NodeJS.Module, filename: string) => void;

/** The `type` of the package.json nearest to a file (`commonjs` when there is none). */
function packageType(file: string): string {
  let dir = dirname(file);
  for (let i = 0; i < 64; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown };
      return parsed.type === 'module' ? 'module' : 'commonjs';
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'commonjs';
}

/**
 * True for a file that is a CommonJS module: `.cts`/`.cjs`, or `.ts`/`.js` in a package that is not
 * `"type": "module"`. The CLI `require`s those (through tsx's require hook) and `import`s the rest.
 */
export function isCommonJs(file: string): boolean {
  if (/\.c[jt]s$/.test(file)) return true;
  if (/\.m[jt]s$/.test(file)) return false;
  return packageType(file) === 'commonjs';
}

/** Loads a module file with `require` (CommonJS) or `import` (ES module), as Node would run it. */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  registerAppLoaders();
  if (isCommonJs(file)) {
    const exported = require(file) as unknown;
    // The same shape `import()` gives a CommonJS module: its exports as `default`, plus their names.
    return exported && typeof exported === 'object'
      ? { ...(exported as Record<string, unknown>), default: exported }
      : { default: exported };
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** True for a JavaScript file Node itself treats as an ES module (`.mjs`, or `.js` in a `"type": "module"` package). */
function isNativeEsm(file: string): boolean {
  const clean = file.split('?')[0]!;
  if (clean.endsWith('.mjs')) return true;
  return clean.endsWith('.js') && packageType(clean) === 'module';
}

let registered = false;

/**
 * Lets the CLI load an app written in TypeScript or JavaScript, from a `"type": "module"` or a
 * `"type": "commonjs"` package (`.ts`, `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`).
 *
 * tsx's require hook compiles every ES module a CommonJS file `require`s into a second, CommonJS copy.
 * For an app in a CommonJS package (what `npm init -y` writes) that meant a second copy of
 * `@dingtalk-skills/sdk` and of everything it imports: undici's second copy failed with
 * `TypeError: Illegal constructor` (its private construct symbol came from the other copy), and even
 * where a second copy loads, `instanceof` between the app's SDK and the CLI's SDK fails (a thrown
 * `SkillAnswerError` would not be recognised). So a `require` of a JavaScript ES module goes to Node's
 * own loader (`require(esm)`, Node >= 20.19), which hands back the one instance from the ES module
 * cache, the same one the CLI imported. TypeScript files still go through tsx.
 */
export function registerAppLoaders(): void {
  if (registered) return;
  registered = true;
  const extensions = require.extensions as unknown as Record<string, Loader>;
  const nativeJs = extensions['.js']!;
  (require('tsx/cjs/api') as { register: () => unknown }).register();
  registerEsm();
  if (!process.features.require_module) return;
  for (const ext of ['.js', '.mjs']) {
    const tsxLoader = extensions[ext];
    if (!tsxLoader) continue;
    const loader: Loader = (module, filename) =>
      isNativeEsm(filename) ? nativeJs(module, filename.split('?')[0]!) : tsxLoader(module, filename);
    Object.defineProperty(extensions, ext, {
      value: loader,
      writable: true,
      configurable: true,
      enumerable: ext === '.js',
    });
  }
}
