/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A tagged template that escapes every interpolated value unless it is {@link SafeHtml}. */
export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

type HtmlValue = string | number | SafeHtml | readonly SafeHtml[] | undefined;

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (v instanceof SafeHtml) out += v.html;
    else if (Array.isArray(v)) out += v.map((x: SafeHtml) => x.html).join('');
    else if (v !== undefined) out += escapeHtml(String(v));
    out += strings[i + 1] ?? '';
  });
  return new SafeHtml(out);
}
