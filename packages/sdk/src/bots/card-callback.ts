import { z } from 'zod';
import { DingTalkSkillsError, ErrorCode, toError } from '../errors/coded-error.js';
import type { Logger } from '../logging/logger.js';
import type { UserApi } from '../openapi/user-api.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { CallbackMessage, StreamHandlerContext } from '../stream/handlers.js';

/**
 * A button press (or other action) on a card the app sent: the `data` of topic
 * `/v1.0/card/instances/callback`. `userId` is the platform's: who pressed, never from card params.
 */
export interface CardAction {
  outTrackId: string;
  /** Who pressed (staffId, `userIdType` 1). */
  userId: string;
  corpId?: string;
  spaceType?: string;
  spaceId?: string;
  /** `type` of the callback (e.g. `actionCallback`). */
  type?: string;
  /** `content.cardPrivateData.actionIds`: the button(s) pressed. */
  actionIds: string[];
  /** `content.cardPrivateData.params`: the values the card sent with the press. */
  params: Record<string, unknown>;
  /** `extension`, parsed when it is JSON. */
  extension: unknown;
}

/** How the card should change; values are strings on the wire (non-strings are JSON-encoded). */
export interface CardUpdate {
  /** Public card data (`cardData.cardParamMap`), seen by everyone. */
  cardData?: Record<string, unknown>;
  /** The presser's private data (`userPrivateData.cardParamMap`). */
  privateData?: Record<string, unknown>;
  /** Merge by key (default true) rather than replace the whole map. */
  merge?: boolean;
}

export interface CardActionContext {
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * DingTalk's OpenAPI as the person who pressed the button (用户代理凭证), found from the platform's
   * `userId` of the callback only: their stored token, refreshed when needed. Rejects with
   * `ERR_AUTHORIZATION_REQUIRED` when they never authorized (a card press cannot show the
   * authorization card: answer with a card update that says so).
   */
  asPresser(): Promise<UserApi>;
}

/** Handles the actions of the cards whose `outTrackId` starts with its key (longest key wins). */
export type CardActionHandler = (
  action: CardAction,
  ctx: CardActionContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: returning nothing leaves the card as it is.
) => Promise<CardUpdate | void> | CardUpdate | void;

const wire = z.object({
  outTrackId: z.string().min(1),
  userId: z.string().min(1),
  corpId: z.string().optional(),
  spaceType: z.string().optional(),
  spaceId: z.string().optional(),
  type: z.string().optional(),
  extension: z.string().optional(),
  content: z.string().optional(),
});

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads a card callback's `data`; throws ProtocolError when it is not one. */
export function decodeCardAction(data: string, messageId: string): CardAction {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new ProtocolError('data', 'a JSON object', data, messageId);
  }
  const parsed = wire.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw new ProtocolError(
      `data${path ? `.${path}` : ''}`,
      issue?.message ?? 'a card callback',
      undefined,
      messageId,
    );
  }
  const w = parsed.data;
  const content = parseJson(w.content) as
    | { cardPrivateData?: { actionIds?: unknown; params?: unknown } }
    | undefined;
  const priv = typeof content === 'object' && content !== null ? content.cardPrivateData : undefined;
  const actionIds = Array.isArray(priv?.actionIds)
    ? priv.actionIds.filter((x): x is string => typeof x === 'string').slice(0, 50)
    : [];
  const params =
    typeof priv?.params === 'object' && priv.params !== null && !Array.isArray(priv.params)
      ? (priv.params as Record<string, unknown>)
      : {};
  return {
    outTrackId: w.outTrackId,
    userId: w.userId,
    ...(w.corpId !== undefined ? { corpId: w.corpId } : {}),
    ...(w.spaceType !== undefined ? { spaceType: w.spaceType } : {}),
    ...(w.spaceId !== undefined ? { spaceId: w.spaceId } : {}),
    ...(w.type !== undefined ? { type: w.type } : {}),
    actionIds,
    params,
    extension: parseJson(w.extension),
  };
}

const asStrings = (map: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));

/** The ack `response` of a card callback (`{cardUpdateOptions, cardData, userPrivateData}`). */
export function cardUpdateResponse(update: CardUpdate | undefined): unknown {
  if (!update || (update.cardData === undefined && update.privateData === undefined)) return null;
  const merge = update.merge !== false;
  return {
    cardUpdateOptions: { updateCardDataByKey: merge, updatePrivateDataByKey: merge },
    ...(update.cardData ? { cardData: { cardParamMap: asStrings(update.cardData) } } : {}),
    ...(update.privateData ? { userPrivateData: { cardParamMap: asStrings(update.privateData) } } : {}),
  };
}

/**
 * Routes card callbacks by `outTrackId` prefix to their handlers and answers with the card update.
 * An unrouted or malformed callback is answered with no update (and logged).
 */
export class CardActionRouter {
  readonly #routes: Array<[string, CardActionHandler]>;
  readonly #logger: Logger;

  readonly #asStaff: (staffId: string) => Promise<UserApi>;

  constructor(
    routes: Record<string, CardActionHandler>,
    logger: Logger,
    /** The user API of an org user by staffId (the runtime's token manager + sender directory). */
    asStaff?: (staffId: string) => Promise<UserApi>,
  ) {
    this.#routes = Object.entries(routes).sort((a, b) => b[0].length - a[0].length);
    this.#logger = logger;
    this.#asStaff =
      asStaff ??
      (async () => {
        throw new DingTalkSkillsError(ErrorCode.Config, 'asPresser(): the runtime has no user tokens');
      });
  }

  async handle(msg: CallbackMessage, context: StreamHandlerContext): Promise<unknown> {
    let action: CardAction;
    try {
      action = decodeCardAction(msg.data, msg.messageId);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.#logger.warn({ messageId: msg.messageId, err: err.message }, 'malformed card callback');
      return null;
    }
    const route = this.#routes.find(([prefix]) => action.outTrackId.startsWith(prefix));
    if (!route) {
      this.#logger.warn({ outTrackId: action.outTrackId }, 'card callback for no registered card: ignored');
      return null;
    }
    const logger = this.#logger.child({ outTrackId: action.outTrackId });
    try {
      const asPresser = () => this.#asStaff(action.userId);
      return cardUpdateResponse(
        (await route[1](action, { signal: context.signal, logger, asPresser })) ?? undefined,
      );
    } catch (err) {
      logger.error({ err: toError(err) }, 'card action handler failed');
      throw err;
    }
  }
}
