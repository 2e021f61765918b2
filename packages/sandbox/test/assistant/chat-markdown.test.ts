/**
 * The page's markdown renderer (public/assistant/chats/markdown.js) on a minimal document: it builds
 * nodes and text only, so hostile HTML stays characters; only http(s) URLs become links; underscores
 * in identifiers are left alone; an unclosed fence ends at the end of the text. (The browser test
 * test/e2e/bot-chats.browser.test.ts checks the same in Chromium.)
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/** A node of the minimal document: a tag, attributes, children (strings are text nodes). */
interface FakeNode {
  tag: string;
  attrs: Record<string, string>;
  children: Array<FakeNode | string>;
  className?: string;
  href?: string;
  target?: string;
  rel?: string;
  title?: string;
}

class Node implements FakeNode {
  attrs: Record<string, string> = {};
  children: Array<FakeNode | string> = [];
  constructor(readonly tag: string) {}
  append(...c: Array<FakeNode | string>): void {
    this.children.push(...c);
  }
  set textContent(v: string) {
    this.children = [String(v)];
  }
}

const node = (tag: string): FakeNode => new Node(tag);

const doc = { createElement: node, createTextNode: (t: string) => t };

const text = (n: FakeNode | string): string => (typeof n === 'string' ? n : n.children.map(text).join(''));
const all = (n: FakeNode | string, tag: string): FakeNode[] =>
  typeof n === 'string' ? [] : [...(n.tag === tag ? [n] : []), ...n.children.flatMap((c) => all(c, tag))];

let render: (text: string, d: unknown) => FakeNode;

beforeAll(async () => {
  const file = fileURLToPath(new URL('../../public/assistant/chats/markdown.js', import.meta.url));
  const mod = await import(pathToFileURL(file).href);
  render = mod.renderMarkdown;
});

describe('the chat markdown renderer', () => {
  it('keeps hostile HTML as characters (there is no way to make an element from text)', () => {
    const hostile =
      '<img src=x onerror="window.__xss=1"><script>alert(1)</script><a href="javascript:x">y</a>';
    const root = render(hostile, doc);
    expect(text(root)).toBe(hostile);
    for (const tag of ['img', 'script', 'a']) expect(all(root, tag)).toEqual([]);
  });

  it('renders the DingTalk subset: headings, lists, quotes, code, bold, line breaks', () => {
    const root = render('# 标题\n第一行\n第二行\n\n- a\n- **b**\n1. c\n> q\n```\n<b>x</b>\n```', doc);
    expect(all(root, 'h3').map(text)).toEqual(['标题']);
    expect(all(root, 'br')).toHaveLength(1);
    expect(all(root, 'ul')[0]!.children.map(text)).toEqual(['a', 'b']);
    expect(all(root, 'strong').map(text)).toEqual(['b']);
    expect(all(root, 'ol').map(text)).toEqual(['c']);
    expect(all(root, 'blockquote').map(text)).toEqual(['q']);
    expect(all(root, 'code').map(text)).toEqual(['<b>x</b>']);
  });

  it('links only http(s) URLs, opened in a new tab without an opener; images are never loaded', () => {
    const root = render(
      '[ok](https://example.com/a) [bad](javascript:alert(1)) [dt](dingtalk://x) ![pic](https://example.com/p.png)',
      doc,
    );
    const links = all(root, 'a');
    expect(links.map((a) => [a.href, a.target, a.rel])).toEqual([
      ['https://example.com/a', '_blank', 'noopener noreferrer'],
      ['https://example.com/p.png', '_blank', 'noopener noreferrer'],
    ]);
    expect(text(links[1]!)).toContain('pic');
    expect(all(root, 'img')).toEqual([]);
    expect(text(root)).toContain('bad');
  });

  it('leaves underscores alone and ends an unclosed fence at the end', () => {
    expect(text(render('my_var and __init__', doc))).toBe('my_var and __init__');
    expect(all(render('```\nnever closed\n**not bold**', doc), 'code').map(text)).toEqual([
      'never closed\n**not bold**',
    ]);
  });
});
