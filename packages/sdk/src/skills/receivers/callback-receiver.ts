import type { ProtocolError } from '../../protocol/protocol-error.js';
import type { SkillInvocation } from '../invocation.js';
import type { SkillOutcome } from '../outcome.js';

/**
 * A Stream callback receiver (as Bolt's `Receiver`): how one topic's `data` becomes an invocation and
 * how an outcome goes back. The Graph API and the legacy AI plugin are records of this shape;
 * `SkillsApp` serves every one the same way (decode, run, render), the decode failure included.
 */
export interface CallbackReceiver<Answer> {
  /** The Stream topic it answers. */
  readonly topic: string;
  /** What a request is called in the log line for a malformed one. */
  readonly requestName: string;
  /** The invocation envelope of a CALLBACK's `data`; ProtocolError when it is malformed. */
  decode(data: string, messageId: string): SkillInvocation;
  /** The answer for an outcome. */
  render(outcome: SkillOutcome, requestId: string): Answer;
  /** The answer for a request that could not be decoded (a 400 naming what is wrong). */
  decodeFailure(err: ProtocolError, messageId: string): Answer;
}
