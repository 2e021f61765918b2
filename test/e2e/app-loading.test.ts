/**
 * The CLI loads an app from a `"type": "module"` and from a `"type": "commonjs"` package (what
 * `npm init -y` writes), written as `.ts`, `.mts`, `.cts` or `.js`: the built CLI's `spec` runs on a
 * temp project outside the repository (its node_modules link the workspace SDK and zod) and prints the
 * same document for every combination. A CommonJS app gets the CLI's own SDK instance (not a second copy
 * compiled by tsx, which failed with `TypeError: Illegal constructor`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../support/child-process.js';
import { ROOT, runCli } from './dev-process.js';
import { tempProject } from './temp-project.js';

const TS_APP = `import { defineApp, defineSkill } from '@dingtalk-skills/sdk';
import { z } from 'zod';

const addNote = defineSkill({
  operationId: 'addNote',
  summary: 'add a note',
  description: 'Adds a note for the current user',
  input: z.object({
    text: z.string().describe('the note'),
    colour: z.enum(['red', 'blue']).optional(),
  }),
  handler: (input) => ({ saved: input.text }),
});

export const sdkDefineApp = defineApp;
export default defineApp({ name: 'Notes 笔记', version: '2.0.0', skills: [addNote] });
`;

const CJS_JS_APP = `const { defineApp, defineSkill } = require('@dingtalk-skills/sdk');
const { z } = require('zod');

const addNote = defineSkill({
  operationId: 'addNote',
  summary: 'add a note',
  description: 'Adds a note for the current user',
  input: z.object({
    text: z.string().describe('the note'),
    colour: z.enum(['red', 'blue']).optional(),
  }),
  handler: (input) => ({ saved: input.text }),
});

module.exports = defineApp({ name: 'Notes 笔记', version: '2.0.0', skills: [addNote] });
module.exports.sdkDefineApp = defineApp;
`;

type PackageType = 'module' | 'commonjs';
const EXTENSIONS = ['.ts', '.mts', '.cts', '.js'] as const;

let dir: string;
function project(type: PackageType): void {
  const p = tempProject(type, dir);
  for (const ext of EXTENSIONS) {
    const cjsJs = ext === '.js' && type === 'commonjs';
    p.write(`app${ext}`, ext === '.js' ? (cjsJs ? CJS_JS_APP : TS_APP) : TS_APP);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dingtalk-app-loading-'));
  project('module');
  project('commonjs');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dingtalk-skills spec loads the app from every kind of package and file', () => {
  const outputs = new Map<string, string>();
  for (const type of ['module', 'commonjs'] as const)
    for (const ext of EXTENSIONS)
      it(`"type": "${type}", app${ext}`, async () => {
        const cwd = join(dir, type);
        const run = await runCli(['spec', `app${ext}`], 30_000, { cwd });
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('title: Notes 笔记');
        expect(run.stdout).toContain('operationId: addNote');
        expect(run.stdout).toContain('description: the note');
        outputs.set(`${type}${ext}`, run.stdout);
      });

  it('every combination prints the same document', () => {
    expect(outputs.size).toBe(8);
    const first = [...outputs.values()][0];
    for (const [name, out] of outputs) expect(out, name).toBe(first);
  });
});

describe('a CommonJS app shares the CLI SDK instance', () => {
  for (const file of ['commonjs/app.ts', 'commonjs/app.cts', 'commonjs/app.js', 'module/app.cts'])
    it(`${file}: the defineApp it imports is the CLI's`, async () => {
      const script = `
        import { loadModule } from ${JSON.stringify(pathToFileURL(join(ROOT, 'packages/cli/dist/module-hooks.js')).href)};
        import { defineApp } from '@dingtalk-skills/sdk';
        const mod = await loadModule(${JSON.stringify(join(dir, file))});
        const exported = mod.sdkDefineApp ?? mod.default?.sdkDefineApp;
        console.log(JSON.stringify({ same: exported === defineApp, found: typeof exported }));
      `;
      const run = await runToEnd(process.execPath, ['--input-type=module', '-e', script], {
        cwd: join(ROOT, 'packages/cli'),
        timeoutMs: 30_000,
      });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ same: true, found: 'function' });
    });
});
