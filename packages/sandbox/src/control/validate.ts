import type { z } from 'zod';
import { ControlError } from './errors.js';

/**
 * Validates control API input. On failure throws a 400 `invalidParameter` ControlError naming the
 * first failing field (a dotted path, e.g. `data.topic`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? where : path;
  throw new ControlError(400, 'invalidParameter', `${field}: ${issue?.message ?? 'invalid'}`, field);
}
