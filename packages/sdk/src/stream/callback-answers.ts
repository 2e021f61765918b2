import { toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import { AckCode, callbackAck, errorAck, type UpstreamAck } from '../protocol/ack.js';
import type { CallbackJob } from './job.js';

/** `{"response": result}`, or 500 when the result cannot be serialized to JSON (BigInt, cycles). */
export function callbackResponse(job: CallbackJob, response: unknown, log: Logger): UpstreamAck {
  try {
    return callbackAck(job.messageId, response);
  } catch (err) {
    log.error(
      { messageId: job.messageId, topic: job.message.topic, err: toError(err) },
      'callback result is not JSON-serializable; answered 500',
    );
    return errorAck(job.messageId, AckCode.InternalError, 'internal error');
  }
}

/** A handler threw (or rejected): 500 "internal error"; the error is logged, never sent. */
export function callbackFailureAnswer(job: CallbackJob, err: unknown, log: Logger): UpstreamAck {
  log.error(
    { messageId: job.messageId, topic: job.message.topic, err: toError(err) },
    'callback handler failed; answered 500',
  );
  return errorAck(job.messageId, AckCode.InternalError, 'internal error');
}

/** A CALLBACK missed its deadline (or `stop()` gave up): its `onTimeout` response, else 500 `reason`. */
export function callbackTimeoutAnswer(job: CallbackJob, reason: string, log: Logger): UpstreamAck {
  const reg = job.registration;
  log.warn(
    { messageId: job.messageId, topic: reg.topic, timeoutMs: reg.timeoutMs, reason },
    'callback not handled in time',
  );
  if (reg.onTimeout === undefined) return errorAck(job.messageId, AckCode.InternalError, reason);
  let response: unknown;
  try {
    response = reg.onTimeout(job.message);
  } catch (err) {
    log.error(
      { messageId: job.messageId, topic: reg.topic, err: toError(err) },
      'onTimeout threw; answered 500',
    );
    return errorAck(job.messageId, AckCode.InternalError, reason);
  }
  return callbackResponse(job, response, log);
}
