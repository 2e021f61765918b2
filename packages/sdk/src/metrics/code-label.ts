import { TransportErrorCode } from '../openapi/errors.js';
import { OK_CODE } from '../openapi/observer.js';
import { OpenApiErrorCode } from '../protocol/openapi-error.js';

/** The `code` label of every OpenAPI answer whose code is not a known one. */
export const OTHER_CODE = 'other';

const KNOWN: ReadonlySet<string> = new Set<string>([
  OK_CODE,
  ...Object.values(TransportErrorCode),
  ...Object.values(OpenApiErrorCode),
]);

/** `Http<status>`: the code of an error answer without a body code (the status is 100..599). */
const HTTP_CODE = /^Http[1-5]\d\d$/;

/**
 * The `code` label for an OpenAPI attempt. The code comes from the server's answer, so a label taken
 * verbatim would let a server (or a proxy) grow one series per distinct string: known codes pass, as
 * does `Http<status>`; anything else is counted as `other` (the code itself is in the error and its log).
 */
export function openApiCodeLabel(code: string): string {
  return KNOWN.has(code) || HTTP_CODE.test(code) ? code : OTHER_CODE;
}
