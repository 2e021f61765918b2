import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { UsageError } from '../../exit-codes.js';
import { type ModuleKind, scaffoldFiles } from './files.js';

export interface InitOptions {
  cjs?: boolean;
  esm?: boolean;
  /** npm package name (default: the folder's name). */
  name?: string;
}

/** An `init` refusal: a folder that is not empty, a file in the way. Exit code 1 (bad flags are usage errors, exit 2). */
export class InitError extends Error {}

interface CliPackage {
  version: string;
  dependencies: Record<string, string>;
}

/** The CLI's own package.json (two levels up from both src/commands/init and dist/commands/init). */
function cliPackage(): CliPackage {
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as CliPackage;
}

/** A valid npm package name from a folder name: lower case, allowed characters only. */
export function packageNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214);
  return name === '' ? 'dingtalk-skills-app' : name;
}

/**
 * `dingtalk-skills init <dir> [--esm|--cjs] [--name]`: writes a new project (package.json, tsconfig,
 * src/app.ts with one skill acting as the user, a node:test test against the in-process sandbox, README)
 * into an empty or new folder, and prints the next steps. Writes nothing when it refuses.
 */
export function initCommand(dir: string, options: InitOptions, out: (line: string) => void): void {
  if (options.cjs && options.esm) throw new UsageError('choose one of --esm and --cjs');
  const module: ModuleKind = options.cjs ? 'cjs' : 'esm';
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new InitError(`${dir} exists and is not a folder`);
    const entries = readdirSync(target).filter((e) => e !== '.git');
    if (entries.length > 0)
      throw new InitError(
        `${dir} is not empty (${entries.slice(0, 3).join(', ')}…): pick a new or empty folder`,
      );
  }
  const name = options.name ?? packageNameFor(target);
  if (!/^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name) || name.length > 214)
    throw new UsageError(`--name ${JSON.stringify(name)} is not a valid npm package name`);
  const cli = cliPackage();
  const files = scaffoldFiles({
    name,
    module,
    version: cli.version,
    ranges: { zod: cli.dependencies.zod ?? '^4.6.7', tsx: cli.dependencies.tsx ?? '^4.23.15' },
  });
  for (const [path, content] of Object.entries(files)) {
    const file = join(target, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { flag: 'wx' });
  }
  const cd = relative(process.cwd(), target) || '.';
  out(`dingtalk-skills init: ${name} (${module === 'esm' ? 'ESM' : 'CommonJS'}) in ${target}`);
  for (const path of Object.keys(files)) out(`  ${path}`);
  out('next:');
  if (cd !== '.') out(`  cd ${cd}`);
  out('  npm install');
  out('  npm test          # the skill against the sandbox, in-process');
  out('  npm run dev       # sandbox + app + assistant page');
}
