import type { z } from 'zod';

/** A control API refusal: 400 (bad input, naming the field) or 404 (unknown user/app). */
export class ControlError extends Error {
  readonly status: 400 | 404;
  readonly field: string | undefined;
  constructor(status: 400 | 404, message: string, field?: string) {
    super(message);
    this.name = 'ControlError';
    this.status = status;
    this.field = field;
  }
}

/** Parses control input or throws a 400 naming the first bad field. */
export function parseControl<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  throw new ControlError(400, `${field}: ${issue?.message ?? 'invalid'}`, field);
}
