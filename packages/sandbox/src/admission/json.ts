import type { FastifyInstance } from 'fastify';

/**
 * Deepest nesting of arrays/objects a JSON body may have. DingTalk's payloads are a few levels deep;
 * a body nested thousands deep parses, but the first `JSON.stringify` or recursive walk of it throws
 * `RangeError` (a 500). Such bodies are refused before they are parsed.
 */
export const MAX_JSON_DEPTH = 64;

/** Code of {@link JsonTooDeepError}; the control API answers it as 400 `jsonTooDeep`. */
export const JSON_TOO_DEEP = 'ERR_JSON_TOO_DEEP';

/** A JSON body nested deeper than {@link MAX_JSON_DEPTH}: a client error (400). */
export class JsonTooDeepError extends Error {
  readonly code = JSON_TOO_DEEP;
  readonly statusCode = 400;
  constructor(max: number) {
    super(`body: JSON nested deeper than ${max} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * True when the JSON text nests arrays/objects deeper than `max`. One pass over the text, brackets
 * inside strings not counted; says nothing about validity (JSON.parse judges that afterwards).
 */
export function jsonDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Replaces the `application/json` parser of `server` (and of every scope registered after, unless
 * it installs its own) with Fastify's own parser (prototype-poisoning checks included) behind a
 * depth check: a too-deep body fails with {@link JsonTooDeepError}.
 */
export function useBoundedJson(server: FastifyInstance, max: number = MAX_JSON_DEPTH): void {
  const parse = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDeeperThan(text, max)) return done(new JsonTooDeepError(max), undefined);
    return parse(req, text, done);
  });
}
