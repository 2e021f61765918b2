import { ProtocolError } from './protocol-error.js';

/** A parsed JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A parsed JSON object. */
export type JsonObject = { [key: string]: JsonValue };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse that throws a ProtocolError naming the field instead of a bare SyntaxError. */
export function parseJsonText(text: string, field: string, messageId?: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new ProtocolError(field, 'valid JSON text', text, messageId, { cause: err });
  }
}

/**
 * Deepest nesting accepted in a request body or plugin data. DingTalk's actions take one level of
 * parameters; deeper values would overflow the stack of every recursive walk after parsing
 * (`JSON.stringify`, schema validation, logging), so they are refused up front with a 400.
 */
export const MAX_JSON_DEPTH = 64;

/** Throws a ProtocolError when `value` nests deeper than `max` (checked without recursion). */
export function requireJsonDepth(
  value: unknown,
  field: string,
  messageId?: string,
  max = MAX_JSON_DEPTH,
): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max)
      throw new ProtocolError(field, `JSON nested at most ${max} levels deep`, '(deeper)', messageId);
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

/** Parses JSON text that must hold an object. */
export function parseJsonObject(text: string, field: string, messageId?: string): JsonObject {
  const value = parseJsonText(text, field, messageId);
  if (!isPlainObject(value)) throw new ProtocolError(field, 'a JSON object', value, messageId);
  return value as JsonObject;
}

export function requireString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  messageId?: string,
): string {
  const value = obj[key];
  if (typeof value !== 'string') throw new ProtocolError(`${path}${key}`, 'a string', value, messageId);
  return value;
}

export function optionalString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  messageId?: string,
): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ProtocolError(`${path}${key}`, 'a string', value, messageId);
  return value;
}
