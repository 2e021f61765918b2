/**
 * `dingtalk-skills init` and `create-dingtalk-skills` from the workspace: what they write, and every
 * refusal with its message and exit code (nothing written when refused). The packed, installed scaffold
 * and its own `npm test` are covered by packed-install.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run } from './support.js';

/** The CLI as package.json's `bin` names it (a built file or a shim that loads it). */
const CLI_PACKAGE = JSON.parse(readFileSync(join(REPO, 'packages', 'cli', 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const CLI = join(REPO, 'packages', 'cli', CLI_PACKAGE.bin['dingtalk-skills'] ?? 'dist/bin.js');
const CREATE = join(REPO, 'packages', 'create', 'bin.js');
const FILES = ['package.json', 'tsconfig.json', 'src/app.ts', 'test/app.test.ts', 'README.md', '.gitignore'];

let root: string;
let cliVersion: string;
beforeAll(async () => {
  if (!existsSync(join(REPO, 'packages', 'cli', 'dist', 'bin.js')))
    throw new Error('packages/cli/dist/bin.js is missing: run npm run build first');
  root = await mkdtemp(join(tmpdir(), 'dingtalk-skills-init-'));
  cliVersion = CLI_PACKAGE.version;
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const node = (args: string[]) => run(process.execPath, args, { cwd: root, timeoutMs: 60_000 });

interface ScaffoldPackage {
  name: string;
  type: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe('dingtalk-skills init', () => {
  it('writes an ESM project by default, named after the folder, pinned to the CLI version', async () => {
    const dir = join(root, 'My Skills!');
    const r = await node([CLI, 'init', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const f of FILES) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(r.stdout).toContain('npm install');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as ScaffoldPackage;
    expect(pkg.name).toBe('my-skills-');
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies['@dingtalk-skills/sdk']).toBe(`^${cliVersion}`);
    expect(pkg.devDependencies['dingtalk-skills']).toBe(`^${cliVersion}`);
    expect(pkg.devDependencies['@dingtalk-skills/sandbox']).toBe(`^${cliVersion}`);
    expect(pkg.dependencies.zod).toMatch(/^\^4\./);
    expect(pkg.scripts.test).toBe('node --import tsx --test test/app.test.ts');
    const app = await readFile(join(dir, 'src', 'app.ts'), 'utf8');
    expect(app).toContain('ctx.userApi.contact.me()');
    expect(app).toContain("scopes: ['Contact.User.Read']");
  }, 120_000);

  it('--cjs writes "type": "commonjs" and --name sets the package name', async () => {
    const dir = join(root, 'cjs-app');
    const r = await node([CLI, 'init', dir, '--cjs', '--name', '@acme/skills']);
    expect(r.code, r.stderr).toBe(0);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as ScaffoldPackage;
    expect(pkg.type).toBe('commonjs');
    expect(pkg.name).toBe('@acme/skills');
  }, 120_000);

  it('an empty folder (or one with only .git) is fine', async () => {
    const dir = join(root, 'with-git');
    mkdirSync(join(dir, '.git'), { recursive: true });
    const r = await node([CLI, 'init', dir]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('refusals: a busy folder or a file exit 1, bad flags and a missing folder are usage errors (exit 2); the reason; nothing written', async () => {
    const both = await node([CLI, 'init', join(root, 'both'), '--esm', '--cjs']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('dingtalk-skills: choose one of --esm and --cjs\n');
    expect(existsSync(join(root, 'both'))).toBe(false);

    const busy = join(root, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    const notEmpty = await node([CLI, 'init', busy]);
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toContain('is not empty (notes.txt…): pick a new or empty folder');
    expect(existsSync(join(busy, 'package.json'))).toBe(false);

    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const notFolder = await node([CLI, 'init', file]);
    expect(notFolder.code).toBe(1);
    expect(notFolder.stderr).toContain('exists and is not a folder');

    const badName = await node([CLI, 'init', join(root, 'bad-name'), '--name', 'Bad Name']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toBe('dingtalk-skills: --name "Bad Name" is not a valid npm package name\n');
    expect(existsSync(join(root, 'bad-name'))).toBe(false);

    const noDir = await node([CLI, 'init']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain("missing required argument 'dir'");
  }, 120_000);
});

describe('create-dingtalk-skills', () => {
  it('runs dingtalk-skills init with its arguments', async () => {
    const dir = join(root, 'created');
    const r = await node([CREATE, dir, '--cjs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dingtalk-skills init: created (CommonJS)');
    for (const f of FILES) expect(existsSync(join(dir, f)), f).toBe(true);
  }, 120_000);

  it('without a folder: usage on stderr, exit 1', async () => {
    const r = await node([CREATE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('usage: npm create dingtalk-skills@latest <dir>');
  }, 120_000);
});
