/**
 * A throwaway project outside the repository, as a user's would be: a package.json of the given type
 * and node_modules linking the workspace SDK and zod (what `npm install @dingtalk-skills/sdk zod` gives).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './dev-process.js';

export interface TempProject {
  dir: string;
  /** Writes a file (relative to the project) and returns its absolute path. */
  write(name: string, text: string): string;
  remove(): void;
}

export function tempProject(type: 'module' | 'commonjs', parent?: string): TempProject {
  const dir = parent ? join(parent, type) : mkdtempSync(join(tmpdir(), `dingtalk-app-${type}-`));
  mkdirSync(join(dir, 'node_modules', '@dingtalk-skills'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `app-${type}`, version: '1.0.0', type }));
  symlinkSync(join(ROOT, 'packages/sdk'), join(dir, 'node_modules/@dingtalk-skills/sdk'), 'dir');
  symlinkSync(join(ROOT, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir');
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
