import type { Logger } from '@dingtalk-skills/sdk';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { JSON_TOO_DEEP } from '../admission/json.js';
import { GatewayError } from '../gateway/errors.js';
import { PlatformError } from '../platform/errors.js';

/** The control API's error body: a stable `code`, a message, and the failing input field if any. */
export interface ControlErrorBody {
  code: string;
  message: string;
  field?: string;
}

/** An error the control API answers with `status` and `{code, message, field?}`. */
export class ControlError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ControlError';
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** 400 `invalidParameter` naming the field at fault. */
  static invalid(message: string, field?: string): ControlError {
    return new ControlError(400, 'invalidParameter', message, field);
  }

  /** 404 `notFound` (an unknown user, app, card), naming the field that named it. */
  static notFound(message: string, field?: string): ControlError {
    return new ControlError(404, 'notFound', message, field);
  }

  body(): ControlErrorBody {
    const out: ControlErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) out.field = this.field;
    return out;
  }
}

/** Fastify's own request errors (body parsing), mapped to control API codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalidJson',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalidJson',
  FST_ERR_CTP_BODY_TOO_LARGE: 'bodyTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupportedMediaType',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalidContentLength',
  [JSON_TOO_DEEP]: 'jsonTooDeep',
};

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * The one error handler of the control API (every scope under `/sandbox/`: gateway, platform, cards,
 * assistant, bots): every failure is JSON `{code, message, field?}`.
 */
export function controlErrorHandler(logger: Logger) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (err instanceof ControlError) return reply.code(err.status).send(err.body());
    if (err instanceof PlatformError) {
      const refusal =
        err.kind === 'not_found'
          ? ControlError.notFound(err.message, err.field)
          : ControlError.invalid(err.message, err.field);
      return reply.code(refusal.status).send(refusal.body());
    }
    if (err instanceof GatewayError)
      return reply.code(err.httpStatus).send({ code: err.code, message: err.message });
    if (isFastifyError(err) && err.statusCode !== undefined && err.statusCode < 500) {
      const code = FASTIFY_CODES[err.code] ?? 'badRequest';
      logger.debug({ url: req.url, code: err.code }, 'control API: bad request');
      return reply.code(err.statusCode).send({ code, message: err.message });
    }
    logger.error({ err, method: req.method, url: req.url }, 'control API: internal error');
    return reply.code(500).send({ code: 'internalError', message: 'internal error (see the sandbox log)' });
  };
}
