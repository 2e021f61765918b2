import { ErrorCode } from '@dingtalk-skills/sdk';
import { ProtocolError } from '@dingtalk-skills/sdk/protocol';
import { expect } from 'vitest';

/** What a test expects of a ProtocolError: the field, what was expected there, and the salvaged id. */
export interface ExpectedProtocolError {
  field: string;
  expected: string;
  messageId?: string | undefined;
}

/** Runs `fn`, returns the ProtocolError it threw; fails when it threw anything else or nothing. */
export function catchProtocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw new Error(`expected a ProtocolError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

/** Asserts that `fn` throws a ProtocolError with exactly this field, expectation and message id. */
export function expectProtocolError(fn: () => unknown, want: ExpectedProtocolError): ProtocolError {
  const err = catchProtocolError(fn);
  expect({ field: err.field, expected: err.expected, messageId: err.messageId }).toEqual({
    field: want.field,
    expected: want.expected,
    messageId: want.messageId,
  });
  expect(err.code).toBe(ErrorCode.Protocol);
  return err;
}
