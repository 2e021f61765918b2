import { OpenApiErrorCode } from '@dingtalk-skills/sdk/protocol';
import type { z } from 'zod';
import { Failures } from './failure.js';

/** Describes the first zod issue as `field: message` (field path dotted; `body` for the root). */
export function describeIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  return { field, message: `${field}: ${issue?.message ?? 'invalid'}` };
}

/** Parses input with a zod schema or throws a 400 with the given code naming the field. */
export function parseOr400<T extends z.ZodType>(
  schema: T,
  input: unknown,
  code: string = OpenApiErrorCode.InvalidParameter,
): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw Failures.invalidParameter(describeIssue(result.error).message, code);
}

/** Opaque page cursor: base64url of the offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}; throws 400 `InvalidParameter` for anything else. */
export function decodeCursor(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw Failures.invalidParameter('nextToken: not a token this API issued');
  return Number(match[1]);
}
