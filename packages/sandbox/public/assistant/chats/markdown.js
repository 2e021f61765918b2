// A small Markdown renderer for what bots send (DingTalk's markdown subset). Safe by construction:
// every piece of text becomes a text node (textContent); nothing is ever parsed as HTML, so a reply
// holding `<img src=x onerror=...>` shows those characters. Links open only http(s) URLs.
//
// Blocks: paragraphs (a single newline is a line break, as DingTalk shows it), headings (#..######),
// fenced code (```), quotes (>), lists (-, *, +, 1.), rules (---). Inline: `code`, **bold**,
// *em*, ~~strike~~, [text](url), ![alt](url) (shown as a link, never loaded).

// Underscores are left alone (snake_case and `__name__` stay as written).
const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(~~[^~\n]+~~)|(!?\[[^\]\n]*\]\([^)\s]+\))|(\*[^*\s][^*\n]*\*)/g;

/** Only these URLs become links; anything else (javascript:, data:, dingtalk://) stays text. */
export function safeUrl(url) {
  return /^https?:\/\/[^\s]+$/i.test(url) ? url : null;
}

function link(doc, label, url, title) {
  const safe = safeUrl(url);
  if (!safe) {
    const span = doc.createElement('span');
    span.className = 'md-link-off';
    span.textContent = label;
    span.title = `${url} (not opened: only http(s) links)`;
    return span;
  }
  const a = doc.createElement('a');
  a.href = safe;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = label;
  if (title) a.title = title;
  return a;
}

function wrap(doc, tag, text) {
  const node = doc.createElement(tag);
  node.textContent = text;
  return node;
}

/** Appends `text` with inline marks to `parent`. */
export function appendInline(parent, text, doc = document) {
  let last = 0;
  INLINE.lastIndex = 0;
  for (let m = INLINE.exec(text); m !== null; m = INLINE.exec(text)) {
    if (m.index > last) parent.append(doc.createTextNode(text.slice(last, m.index)));
    const t = m[0];
    if (m[1]) parent.append(wrap(doc, 'code', t.slice(1, -1)));
    else if (m[2]) parent.append(wrap(doc, 'strong', t.slice(2, -2)));
    else if (m[3]) parent.append(wrap(doc, 'del', t.slice(2, -2)));
    else if (m[4]) {
      const image = t.startsWith('!');
      const close = t.indexOf('](');
      const label = t.slice(image ? 2 : 1, close);
      const url = t.slice(close + 2, -1);
      parent.append(link(doc, image ? `🖼 ${label || 'image'}` : label || url, url, image ? url : ''));
    } else parent.append(wrap(doc, 'em', t.slice(1, -1)));
    last = m.index + t.length;
  }
  if (last < text.length) parent.append(doc.createTextNode(text.slice(last)));
}

function lines(doc, tag, className, items) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  items.forEach((line, i) => {
    if (i > 0) node.append(doc.createElement('br'));
    appendInline(node, line, doc);
  });
  return node;
}

const LIST = {
  ul: /^\s*[-*+]\s+(.*)$/,
  ol: /^\s*\d+[.)]\s+(.*)$/,
};

/** Renders `text` as a `<div class="md">` of DOM nodes (never HTML). */
export function renderMarkdown(text, doc = document) {
  const root = doc.createElement('div');
  root.className = 'md';
  const src = String(text ?? '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  let para = [];
  const flush = () => {
    if (para.length) root.append(lines(doc, 'p', '', para));
    para = [];
  };
  let i = 0;
  while (i < src.length) {
    const line = src[i];
    if (/^\s*```/.test(line)) {
      flush();
      const code = [];
      i++;
      while (i < src.length && !/^\s*```\s*$/.test(src[i])) code.push(src[i++]);
      i++; // the closing fence (or the end)
      const pre = doc.createElement('pre');
      pre.append(wrap(doc, 'code', code.join('\n')));
      root.append(pre);
      continue;
    }
    if (/^\s*$/.test(line)) {
      flush();
      i++;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const h = doc.createElement(`h${Math.min(6, heading[1].length + 2)}`);
      h.className = 'md-h';
      appendInline(h, heading[2], doc);
      root.append(h);
      i++;
      continue;
    }
    if (/^\s*(-{3,}|\*{3,}|_{3,})\s*$/.test(line)) {
      flush();
      root.append(doc.createElement('hr'));
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const quote = [];
      while (i < src.length && /^\s*>/.test(src[i])) quote.push(src[i++].replace(/^\s*>\s?/, ''));
      root.append(lines(doc, 'blockquote', '', quote));
      continue;
    }
    const kind = LIST.ul.test(line) ? 'ul' : LIST.ol.test(line) ? 'ol' : null;
    if (kind) {
      flush();
      const list = doc.createElement(kind);
      while (i < src.length && LIST[kind].test(src[i])) {
        const li = doc.createElement('li');
        appendInline(li, LIST[kind].exec(src[i])[1], doc);
        list.append(li);
        i++;
      }
      root.append(list);
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
  return root;
}
