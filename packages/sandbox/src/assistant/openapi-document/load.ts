import { parseDocument } from 'yaml';
import { SkillSpecError } from '../errors.js';

/** yaml's `maxAliasCount`: how many alias expansions a document may cause (an alias bomb has millions). */
const MAX_ALIAS_COUNT = 100;
/** Deepest nesting of mappings/sequences read (the walks below recurse). */
const MAX_SPEC_DEPTH = 64;

/**
 * Parses a YAML document into plain values, every failure a {@link SkillSpecError} (a 400): syntax
 * errors with their line, an alias bomb (more than {@link MAX_ALIAS_COUNT} alias expansions) and
 * nesting deeper than {@link MAX_SPEC_DEPTH}.
 */
export function loadYaml(text: string): unknown {
  let root: unknown;
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0)
      throw new SkillSpecError(
        doc.errors.map((e) => {
          const pos = e.linePos?.[0];
          return {
            at: pos ? `line ${pos.line}, column ${pos.col}` : '(document)',
            message: `not valid YAML: ${e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
          };
        }),
      );
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws ReferenceError for an alias bomb ("excessive alias count"); RangeError when
    // nesting overflows the stack. Both are the document's fault: a 400, not a 500.
    if (err instanceof ReferenceError || err instanceof RangeError)
      throw new SkillSpecError([
        {
          at: '(document)',
          message: `too many aliases or too deeply nested (at most ${MAX_ALIAS_COUNT} alias expansions, ${MAX_SPEC_DEPTH} levels)`,
        },
      ]);
    throw err;
  }
  if (deeperThan(root, MAX_SPEC_DEPTH))
    throw new SkillSpecError([{ at: '(document)', message: `nested deeper than ${MAX_SPEC_DEPTH} levels` }]);
  return root;
}

export /** True when `value` nests objects/arrays deeper than `max`; iterative, each object visited once. */
function deeperThan(value: unknown, max: number): boolean {
  const seen = new Set<object>();
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    if (depth >= max) return true;
    seen.add(v);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
