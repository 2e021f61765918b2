import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';

/**
 * A wire document did not match the protocol. `field` is a JSON path into the document
 * (e.g. `headers.messageId`), `expected` says what was expected there. `messageId` is set when the
 * frame's message id could still be read, so the caller can answer 400 for that message.
 */
export class ProtocolError extends DingTalkSkillsError {
  readonly field: string;
  readonly expected: string;
  readonly messageId: string | undefined;
  constructor(
    field: string,
    expected: string,
    got: unknown,
    messageId?: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Protocol, `${field}: expected ${expected}, got ${describe(got)}`, options);
    this.field = field;
    this.expected = expected;
    this.messageId = messageId;
  }
}

/** A short, safe description of a value for error messages (never the whole value). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
