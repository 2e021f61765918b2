import type { Logger } from '@dingtalk-skills/sdk';
import { LogBudget } from '@dingtalk-skills/sdk/internal';
import type { FastifyInstance } from 'fastify';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../../admission/json.js';
import { parseSessionReply, type SessionReply } from './reply.js';
import { SESSION_WEBHOOK_PATH, type SessionWebhook, type SessionWebhooks } from './store.js';

/**
 * Answers of `POST /robot/sendBySession`, in the legacy `oapi` form (HTTP 200 with an `errcode`). The
 * error codes are the sandbox's guess: DingTalk does not publish what an expired session answers.
 */
export const SESSION_WEBHOOK_ANSWERS = {
  ok: { errcode: 0, errmsg: 'ok' },
  /** Unknown, forgotten or expired `session` (after `sessionWebhookExpiredTime`). */
  expired: { errcode: 300001, errmsg: 'session不存在或已过期 session does not exist or has expired' },
  /** The body is not one of the reply formats. */
  invalid: { errcode: 40035, errmsg: '不合法的参数 invalid parameter' },
} as const;

/** What the route needs: the webhooks, and where a reply goes (the assistant's conversation). */
export interface SessionWebhookDeps {
  webhooks: SessionWebhooks;
  logger: Logger;
  deliver(webhook: SessionWebhook, reply: SessionReply): void;
}

/**
 * `POST /robot/sendBySession?session=…`: the session webhook DingTalk puts in `sessionWebhook`.
 * A valid reply (text, markdown, actionCard, link) appears in the conversation as a `reply` step.
 * No token is required (the Python, Go and Java SDKs send none; the `x-acs-dingtalk-access-token`
 * header others add is ignored).
 */
export async function registerSessionWebhookRoute(
  app: FastifyInstance,
  deps: SessionWebhookDeps,
): Promise<void> {
  const budget = new LogBudget(20, 1);
  const warn = (fields: Record<string, unknown>, message: string) => {
    const suppressed = budget.take();
    if (suppressed !== undefined) deps.logger.warn({ ...fields, suppressed }, message);
  };
  // Any content type is read as text and parsed here, so every body gets the errcode answer.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(SESSION_WEBHOOK_PATH, async (req) => answer(req.query, req.body));
  });

  function answer(queryIn: unknown, bodyIn: unknown) {
    const query = (queryIn ?? {}) as Record<string, unknown>;
    const session = typeof query.session === 'string' ? query.session : '';
    const found =
      session === '' ? ({ ok: false, reason: 'unknown' } as const) : deps.webhooks.lookup(session);
    if (!found.ok) {
      warn({ reason: found.reason }, 'session webhook refused: unknown or expired session');
      return SESSION_WEBHOOK_ANSWERS.expired;
    }
    if (typeof bodyIn === 'string' && jsonDeeperThan(bodyIn)) {
      warn({ problem: 'nested too deep' }, 'session webhook refused: body nested too deep');
      return {
        ...SESSION_WEBHOOK_ANSWERS.invalid,
        errmsg: `${SESSION_WEBHOOK_ANSWERS.invalid.errmsg}: body nested deeper than ${MAX_JSON_DEPTH} levels`,
      };
    }
    let json: unknown;
    try {
      json = typeof bodyIn === 'string' && bodyIn.trim() !== '' ? JSON.parse(bodyIn) : undefined;
    } catch (err) {
      warn({ problem: (err as Error).message }, 'session webhook refused: body is not JSON');
      return {
        ...SESSION_WEBHOOK_ANSWERS.invalid,
        errmsg: `${SESSION_WEBHOOK_ANSWERS.invalid.errmsg}: body is not JSON`,
      };
    }
    const parsed = parseSessionReply(json);
    if (!parsed.ok) {
      warn({ problem: parsed.problem }, 'session webhook refused: not a reply format');
      return {
        ...SESSION_WEBHOOK_ANSWERS.invalid,
        errmsg: `${SESSION_WEBHOOK_ANSWERS.invalid.errmsg}: ${parsed.problem}`,
      };
    }
    deps.deliver(found.webhook, parsed.reply);
    return SESSION_WEBHOOK_ANSWERS.ok;
  }
}
