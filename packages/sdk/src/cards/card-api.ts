import { randomUUID } from 'node:crypto';
import type { OpenApiClient } from '../openapi/client.js';
import { OpenApiError } from '../openapi/errors.js';
import type { OpenApiCall } from '../openapi/pipeline.js';
import { type AiCardTarget, CardSpaceType, openSpaceIdOf } from './target.js';

/** The AI card's `flowStatus` values (a string in `cardParamMap`; OC/PY `AICardStatus`). */
export const FlowStatus = {
  Processing: '1',
  Inputting: '2',
  Finished: '3',
  Executing: '4',
  Failed: '5',
} as const;
export type FlowStatus = (typeof FlowStatus)[keyof typeof FlowStatus];

/** The card API paths (card_1_0, app token). */
export const CardApiPath = {
  Create: '/v1.0/card/instances',
  Deliver: '/v1.0/card/instances/deliver',
  CreateAndDeliver: '/v1.0/card/instances/createAndDeliver',
  Update: '/v1.0/card/instances',
  Streaming: '/v1.0/card/streaming',
} as const;

/**
 * DingTalk's public AI card template (OC's; works across apps per CH), whose streamed variable is
 * `msgContent`. Apps with their own template pass `templateId` and `contentKey`.
 */
export const DEFAULT_AI_CARD_TEMPLATE_ID = '02fcf2f4-5e02-4a85-b672-46d1f715543e.schema';

/** What the card calls need besides the OpenAPI client. */
export interface CardApiOptions {
  robotCode: string;
  templateId: string;
  contentKey: string;
  /** `two-step` (create, then deliver: what OC and CH do) or `one-shot` (createAndDeliver). */
  deliverMode: 'two-step' | 'one-shot';
}

/**
 * The card calls of one AI card stream. Every call goes through the app's OpenAPI client with one
 * attempt (`maxAttempts: 1`): retries and QPS backoff belong to the pacer. A `success: false` answer
 * (DingTalk can say 200 with a failed delivery inside) becomes an OpenApiError `CardCallFailed`.
 */
export class CardApi {
  readonly #client: OpenApiClient;
  readonly #o: CardApiOptions;

  constructor(client: OpenApiClient, options: CardApiOptions) {
    this.#client = client;
    this.#o = options;
  }

  get contentKey(): string {
    return this.#o.contentKey;
  }

  /** The initial `cardParamMap` of an AI card: processing, empty content (values are strings). */
  initialParams(): Record<string, string> {
    return {
      flowStatus: FlowStatus.Processing,
      [this.#o.contentKey]: '',
      staticMsgContent: '',
      sys_full_json_obj: JSON.stringify({ order: [this.#o.contentKey] }),
      config: JSON.stringify({ autoLayout: true }),
    };
  }

  /**
   * The calls that create the card and deliver it to `target`, in order: create then deliver
   * (`two-step`), or one createAndDeliver (`one-shot`). `check` reads the answer (a delivery can fail
   * inside a 200).
   */
  startCalls(outTrackId: string, target: AiCardTarget): StartCall[] {
    const spaceModel =
      target.kind === 'user'
        ? { imRobotOpenSpaceModel: { supportForward: true } }
        : { imGroupOpenSpaceModel: { supportForward: true } };
    const extension = { dynamicSummary: 'true' };
    const deliverModel =
      target.kind === 'user'
        ? {
            imRobotOpenDeliverModel: {
              spaceType: CardSpaceType.User,
              robotCode: this.#o.robotCode,
              extension,
            },
          }
        : {
            imGroupOpenDeliverModel: {
              robotCode: this.#o.robotCode,
              ...(target.atUserIds ? { atUserIds: target.atUserIds } : {}),
              extension,
            },
          };
    const created = {
      cardTemplateId: this.#o.templateId,
      outTrackId,
      cardData: { cardParamMap: this.initialParams() },
      callbackType: 'STREAM',
      userIdType: 1,
      ...spaceModel,
    };
    const openSpaceId = openSpaceIdOf(target);
    if (this.#o.deliverMode === 'one-shot')
      return [
        {
          what: 'createAndDeliver',
          call: {
            method: 'POST',
            path: CardApiPath.CreateAndDeliver,
            body: { ...created, openSpaceId, ...deliverModel },
            idempotent: true,
          },
          check: (body) =>
            checkDeliverResults(
              CardApiPath.CreateAndDeliver,
              (body as { result?: { deliverResults?: unknown } } | undefined)?.result?.deliverResults,
            ),
        },
      ];
    return [
      { what: 'create', call: { method: 'POST', path: CardApiPath.Create, body: created, idempotent: true } },
      {
        what: 'deliver',
        call: {
          method: 'POST',
          path: CardApiPath.Deliver,
          body: { outTrackId, openSpaceId, userIdType: 1, ...deliverModel },
          idempotent: true,
        },
        check: (body) =>
          checkDeliverResults(CardApiPath.Deliver, (body as { result?: unknown } | undefined)?.result),
      },
    ];
  }

  /** Sends one card call as the app, with one attempt (the stream and the pacer decide on repeats). */
  request(call: OpenApiCall): Promise<unknown> {
    return this.#client.request({ ...call, maxAttempts: 1 }, 'app');
  }

  /** One `PUT /v1.0/card/streaming` frame with the full text so far (a new `guid` per call). */
  streamingCall(outTrackId: string, content: string, finalize: boolean, error = false): OpenApiCall {
    return {
      method: 'PUT',
      path: CardApiPath.Streaming,
      body: {
        outTrackId,
        guid: randomUUID(),
        key: this.#o.contentKey,
        content,
        isFull: true,
        isFinalize: finalize,
        isError: error,
      },
    };
  }

  /** `PUT /v1.0/card/instances`: flow status (and the content, when given), merged by key. */
  updateCall(outTrackId: string, status: FlowStatus, content?: string): OpenApiCall {
    const params: Record<string, string> = { flowStatus: status };
    if (content !== undefined) params[this.#o.contentKey] = content;
    return {
      method: 'PUT',
      path: CardApiPath.Update,
      body: {
        outTrackId,
        cardData: { cardParamMap: params },
        cardUpdateOptions: { updateCardDataByKey: true },
      },
    };
  }
}

/** One step of starting a card. */
export interface StartCall {
  what: string;
  call: OpenApiCall;
  /** Throws when the answer reports a failure inside a 2xx. */
  check?: (body: unknown) => void;
}

/** Throws when a deliver answer reports a failed space (HTTP 200 with `success: false` inside). */
function checkDeliverResults(path: string, results: unknown): void {
  if (!Array.isArray(results)) return;
  const failed = results.find((r) => (r as { success?: unknown })?.success === false) as
    | { errorMsg?: unknown }
    | undefined;
  if (failed === undefined) return;
  throw new OpenApiError({
    status: 200,
    apiCode: 'CardDeliverFailed',
    apiMessage: typeof failed.errorMsg === 'string' ? failed.errorMsg.slice(0, 200) : 'delivery failed',
    requestId: '',
    api: `POST ${path}`,
    idempotent: false,
  });
}

/** True when a card call's body says it failed (`success: false`) though the status was 2xx. */
export function answeredFailure(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { success?: unknown }).success === false;
}
