/**
 * Every relative link in the documentation resolves: README.md, CHANGELOG.md, docs/*.md, each package's
 * README and the folder READMEs under packages/. A link to a file must name an existing file or folder;
 * a `#fragment` must name a heading of the target Markdown file (GitHub's slugs). External links
 * (http, https, mailto) are not fetched.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

function markdownFiles(): string[] {
  const files = ['README.md', 'CHANGELOG.md'];
  for (const f of readdirSync(join(REPO, 'docs'))) if (f.endsWith('.md')) files.push(join('docs', f));
  for (const pkg of readdirSync(join(REPO, 'packages'))) {
    const readme = join('packages', pkg, 'README.md');
    if (existsSync(join(REPO, readme))) files.push(readme);
    const src = join(REPO, 'packages', pkg, 'src');
    if (!existsSync(src)) continue;
    for (const folder of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (folder.endsWith('README.md')) files.push(join('packages', pkg, 'src', folder));
    }
  }
  return files;
}

/** Text without fenced code blocks and inline code spans (links there are examples, not links). */
function prose(markdown: string): string {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) lines.push(line.replace(/`[^`\n]*`/g, '``'));
  }
  return lines.join('\n');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = (heading[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Links of `file` (its text, or `markdown` as if it were its text) that do not resolve. */
function brokenLinks(file: string, markdown = readFileSync(join(REPO, file), 'utf8')): string[] {
  const text = prose(markdown);
  const broken: string[] = [];
  for (const match of text.matchAll(/\]\(([^()\s]+)\)/g)) {
    const target = match[1] ?? '';
    if (/^(?:https?:|mailto:)/.test(target)) continue;
    const [path = '', fragment] = target.split('#', 2);
    const resolved = path === '' ? join(REPO, file) : join(REPO, dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) {
      broken.push(`${target} (no ${relative(REPO, resolved)})`);
      continue;
    }
    if (fragment === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) continue;
    if (!anchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment)))
      broken.push(`${target} (no heading #${fragment} in ${relative(REPO, resolved)})`);
  }
  return broken;
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the landing page, the docs pages and the package READMEs', () => {
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'guide.md'));
    expect(files).toContain(join('packages', 'sandbox', 'README.md'));
  });

  it('computes GitHub anchors and sees a missing file and a missing heading', () => {
    expect([...anchors('# A: `b` and (c)\n## Same\n## Same\n### 租约 (Lease)')]).toEqual([
      'a-b-and-c',
      'same',
      'same-1',
      '租约-lease',
    ]);
    const page = [
      '[ok](docs/guide.md#walkthrough-the-authorization-flow-in-your-browser) [web](https://example.com/x)',
      '[gone](docs/nope.md) [bad](docs/guide.md#no-such-heading) `[code](nope.md)`',
      '```',
      '[fenced](nope.md)',
      '```',
    ].join('\n');
    expect(brokenLinks('README.md', page)).toEqual([
      'docs/nope.md (no docs/nope.md)',
      'docs/guide.md#no-such-heading (no heading #no-such-heading in docs/guide.md)',
    ]);
  });

  it.each(files)('every relative link in %s resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});
