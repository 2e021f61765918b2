/**
 * The SDK's root export list is curated: this test snapshots it (names and whether each is a value or
 * only a type), so every addition is deliberate, and keeps it under 90 names. The subpaths are listed
 * too. After a deliberate change: `UPDATE_EXPORTS=1 npx vitest run test/packaging/sdk-exports.test.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const SNAPSHOT = root('test/packaging/sdk-exports.txt');

/** `name<TAB>value|type` for every export of `file`, sorted. */
function exportsOf(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`cannot read ${file}`);
  const module = checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`${file} is not a module`);
  return checker
    .getExportsOfModule(module)
    .map((e) => {
      const target = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
      return `${e.name}\t${target.flags & ts.SymbolFlags.Value ? 'value' : 'type'}`;
    })
    .sort();
}

describe('@dingtalk-skills/sdk public surface', () => {
  it('the root export list is the snapshot, under 90 names', () => {
    const names = exportsOf(root('packages/sdk/src/index.ts'));
    if (process.env.UPDATE_EXPORTS === '1') writeFileSync(SNAPSHOT, `${names.join('\n')}\n`);
    const snapshot = readFileSync(SNAPSHOT, 'utf8').trim().split('\n');
    expect(names, 'the root exports changed: update test/packaging/sdk-exports.txt on purpose').toEqual(
      snapshot,
    );
    expect(names.length).toBeLessThan(90);
  }, 180_000);

  it('subpaths: protocol, state, stream, openapi, bots, cards, mcp and internal; nothing else', () => {
    const pkg = JSON.parse(readFileSync(root('packages/sdk/package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(pkg.exports).sort()).toEqual(
      [
        '.',
        './bots',
        './cards',
        './internal',
        './mcp',
        './openapi',
        './package.json',
        './protocol',
        './state',
        './stream',
      ].sort(),
    );
  });

  it('the sandbox takes its wire codecs from /protocol, never from the root or /internal', () => {
    const protocol = new Set(
      exportsOf(root('packages/sdk/src/protocol/index.ts')).map((l) => l.split('\t')[0]),
    );
    const sandboxFiles = ts.sys.readDirectory(root('packages/sandbox/src'), ['.ts']);
    const misplaced: string[] = [];
    const importPattern = /import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@dingtalk-skills\/sdk(\/internal)?'/g;
    for (const file of sandboxFiles) {
      for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
        for (const raw of (m[1] ?? '').split(',')) {
          const name =
            raw
              .replace(/^\s*type\s+/, '')
              .split(' as ')[0]
              ?.trim() ?? '';
          if (protocol.has(name)) misplaced.push(`${file.slice(root('').length)}: ${name}`);
        }
      }
    }
    expect(misplaced).toEqual([]);
  }, 180_000);
});
