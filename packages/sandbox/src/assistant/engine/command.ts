/**
 * The plain-text command grammar of `POST /sandbox/assistant/say` (the stand-in for the model that
 * picks an action from what the user typed):
 *
 * ```
 * command  = skill *( SP param ) [ SP json ]
 * skill    = operationId            ; case-insensitive, e.g. createTodo
 *          / words                  ; matched against the actions' summaries, e.g. 我的待办, list my to-dos
 * param    = name "=" value         ; value: word, or "quoted text" / '…' / “…”; lists: a,b,c
 * json     = "{" ... "}"            ; a JSON object of parameters, e.g. createTodo {"subject":"买牛奶"}
 * ```
 * Examples: `createTodo subject=买牛奶`, `创建待办 subject="买 牛奶" dueTime=1767225600000`,
 * `我的待办`, `listMyTodos isDone=true`, `whoami`.
 *
 * Summary matching: every word of a summary that appears in the command scores (Chinese phrases may
 * also match in part); the best-scoring action wins; a tie is reported as ambiguous.
 */
import type { SkillAction } from '../openapi-document/types.js';

/** An action the command may pick, with its app. */
export interface CommandCandidate {
  clientId: string;
  action: SkillAction;
}

export type CommandMatch =
  | { kind: 'match'; candidate: CommandCandidate; params: Record<string, unknown> }
  | { kind: 'none'; message: string }
  | { kind: 'ambiguous'; message: string; candidates: CommandCandidate[] };

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '「': '」' };
const CJK = /[\u3400-\u9fff\uf900-\ufaff]+/g;

/** Splits on white space, keeping quoted parts (also after `name=`) together, quotes removed. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const close = QUOTES[ch];
    if (close !== undefined) {
      const end = text.indexOf(close, i + 1);
      if (end !== -1) {
        current += text.slice(i + 1, end);
        inToken = true;
        i = end;
        continue;
      }
    }
    if (/\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (inToken) tokens.push(current);
  return tokens;
}

function splitJson(text: string): {
  head: string;
  json: Record<string, unknown> | undefined;
  error?: string;
} {
  const start = text.indexOf('{');
  if (start === -1 || !text.trimEnd().endsWith('}')) return { head: text, json: undefined };
  try {
    const parsed: unknown = JSON.parse(text.slice(start));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return { head: text.slice(0, start), json: parsed as Record<string, unknown> };
    return { head: text, json: undefined, error: 'the JSON part must be an object' };
  } catch (err) {
    return {
      head: text.slice(0, start),
      json: undefined,
      error: `the JSON part is not valid JSON (${(err as Error).message})`,
    };
  }
}

function score(action: SkillAction, words: string[]): number {
  const query = words.join(' ').toLowerCase();
  const asciiWords = new Set(query.split(/[^a-z0-9-]+/).filter((w) => w !== ''));
  const cjkRuns = query.match(CJK) ?? [];
  let total = 0;
  for (const term of action.summary.toLowerCase().split(/[\s,，。;；:：/()（）]+/)) {
    if (term.length < 2) continue;
    if (/^[a-z0-9-]+$/.test(term)) {
      if (asciiWords.has(term)) total += 1;
      continue;
    }
    for (const run of term.match(CJK) ?? []) {
      if (cjkRuns.some((q) => q.includes(run))) total += 2;
      else if (cjkRuns.some((q) => q.length >= 2 && run.includes(q))) total += 1;
    }
  }
  return total;
}

/** Picks the action and parameters a command names (grammar above). */
export function parseCommand(text: string, candidates: readonly CommandCandidate[]): CommandMatch {
  const { head, json, error } = splitJson(text.trim());
  if (error) return { kind: 'none', message: error };
  const params: Record<string, unknown> = { ...(json ?? {}) };
  const words: string[] = [];
  for (const token of tokenize(head)) {
    const eq = token.search(/[=＝]/);
    if (eq > 0) params[token.slice(0, eq)] = token.slice(eq + 1);
    else words.push(token);
  }
  const list = candidates.map((c) => c.action.operationId).join(', ');
  if (words.length === 0)
    return { kind: 'none', message: `name a skill first (available: ${list || 'none registered'})` };
  const first = words[0]!.toLowerCase();
  const byId = candidates.find((c) => c.action.operationId.toLowerCase() === first);
  if (byId) return { kind: 'match', candidate: byId, params };
  const scored = candidates.map((c) => ({ c, s: score(c.action, words) })).filter((x) => x.s > 0);
  const best = Math.max(0, ...scored.map((x) => x.s));
  const top = scored.filter((x) => x.s === best).map((x) => x.c);
  if (top.length === 1) return { kind: 'match', candidate: top[0]!, params };
  if (top.length > 1)
    return {
      kind: 'ambiguous',
      message: `"${words.join(' ')}" fits several skills: ${top.map((c) => `${c.action.operationId} (${c.action.summary})`).join(', ')}. Name one by its operationId`,
      candidates: top,
    };
  return {
    kind: 'none',
    message: `no skill matches "${words.join(' ')}" (available: ${candidates.map((c) => `${c.action.operationId} (${c.action.summary})`).join(', ') || 'none registered'})`,
  };
}
