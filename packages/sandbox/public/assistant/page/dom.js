// DOM helpers of the sandbox page (text only: nothing from the server is parsed as HTML).

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function time(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString('zh-CN', { hour12: false });
}

export function show(value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value))
    return value.every((v) => typeof v !== 'object') ? value.join('、') : JSON.stringify(value, null, 2);
  if (typeof value === 'object') return JSON.stringify(value, null, 2);
  return String(value);
}
