import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Failures, OpenApiFailure } from '../openapi/failure.js';
import { apiKeyOf, tokenHeader } from '../openapi/guard.js';
import type { Platform } from '../platform/platform.js';
import { type CardRegistry, type CardSpace, cardRegistryOf, type SandboxCard } from './card-registry.js';

const callers = new WeakMap<FastifyRequest, string>();

/** A card API refusal (400, DingTalk's `param.*` codes). */
const refuse = (code: string, message: string) => new OpenApiFailure(400, code, message);

const paramMap = z
  .record(z.string().max(128), z.string().max(100_000))
  .refine((m) => Object.keys(m).length <= 200, 'at most 200 keys');
const cardData = z.object({ cardParamMap: paramMap.optional() }).passthrough();
const outTrackId = z.string().max(128);
const deliverModels = {
  imRobotOpenDeliverModel: z
    .object({ spaceType: z.string().optional(), robotCode: z.string().max(128).optional() })
    .passthrough()
    .optional(),
  imGroupOpenDeliverModel: z
    .object({
      robotCode: z.string().max(128).optional(),
      atUserIds: z.record(z.string(), z.string()).optional(),
    })
    .passthrough()
    .optional(),
};
const createBody = z
  .object({
    cardTemplateId: z.string().max(256).optional(),
    outTrackId: outTrackId.optional(),
    cardData: cardData.optional(),
  })
  .passthrough();
const deliverBody = z
  .object({
    outTrackId: outTrackId.optional(),
    openSpaceId: z.string().max(4096).optional(),
    ...deliverModels,
  })
  .passthrough();
const streamingBody = z
  .object({
    outTrackId: outTrackId.optional(),
    guid: z.string().max(128).optional(),
    key: z.string().max(128).optional(),
    content: z.string().max(100_000).optional(),
    isFull: z.boolean().optional(),
    isFinalize: z.boolean().optional(),
    isError: z.boolean().optional(),
  })
  .passthrough();
const updateBody = z
  .object({
    outTrackId: outTrackId.optional(),
    cardData: cardData.optional(),
    cardUpdateOptions: z.object({ updateCardDataByKey: z.boolean().optional() }).passthrough().optional(),
  })
  .passthrough();

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  throw refuse('param.invalid', `${field}: ${issue?.message ?? 'invalid'}`);
}

const SPACE = /^dtv1\.card\/\/(im_robot|im_group)\.(.{1,256})$/i;

/**
 * Emulated card APIs (card_1_0, app token): `POST /v1.0/card/instances` (create),
 * `POST /v1.0/card/instances/deliver`, `POST /v1.0/card/instances/createAndDeliver`,
 * `PUT /v1.0/card/streaming` (AI card streaming update), `PUT /v1.0/card/instances` (update).
 * Order of checks as DingTalk's gateway: token header, token valid, QPS (the platform's per API, then
 * the card limit per app over all card APIs: 403 `QpsLimitForAppkeyAndApi`), an app token, then the body.
 */
export function registerCardRoutes(scope: FastifyInstance, platform: Platform): void {
  const cards = cardRegistryOf(platform);

  const guard = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = tokenHeader(request);
    if (token === undefined) throw Failures.missingToken();
    const resolved = platform.repos.tokens.resolveAccessToken(token);
    if (!resolved) throw Failures.invalidToken();
    if (!platform.qps.tryAcquire(resolved.clientId, apiKeyOf(request))) throw Failures.qpsLimit();
    if (!cards.qps.tryAcquire(resolved.clientId)) throw Failures.qpsLimit();
    if (resolved.kind !== 'app')
      throw Failures.invalidToken(
        '卡片接口需要企业内部应用的 accessToken / the card APIs need the app token',
      );
    callers.set(request, resolved.clientId);
  };
  const clientOf = (request: FastifyRequest): string => callers.get(request) ?? '';

  const own = (clientId: string, id: string | undefined): SandboxCard => {
    if (!id) throw refuse('param.outTrackIdEmpty', 'outTrackId is required');
    const card = cards.get(id);
    // Another app's card is as unknown as a missing one.
    if (!card || card.clientId !== clientId)
      throw refuse('param.cardNotExist', `no card instance ${id} (sandbox code)`);
    return card;
  };

  const create = (clientId: string, body: z.infer<typeof createBody>): SandboxCard => {
    if (!body.cardTemplateId) throw refuse('param.cardTemplateIdEmpty', 'cardTemplateId is required');
    if (!body.outTrackId) throw refuse('param.outTrackIdEmpty', 'outTrackId is required');
    const params = body.cardData?.cardParamMap;
    if (!params) throw refuse('param.cardPublicDataEmpty', 'cardData.cardParamMap is required');
    const existing = cards.get(body.outTrackId);
    if (existing) {
      // A repeat of the same create (a retry after a lost answer) succeeds; anything else is refused.
      if (existing.clientId === clientId && existing.templateId === body.cardTemplateId) return existing;
      throw refuse('param.outTrackIdDuplicated', 'outTrackId is already used by another card (sandbox code)');
    }
    return cards.create({
      outTrackId: body.outTrackId,
      clientId,
      templateId: body.cardTemplateId,
      params: { ...params },
    });
  };

  const deliver = (card: SandboxCard, body: z.infer<typeof deliverBody>) => {
    if (!body.openSpaceId) throw refuse('param.openSpaceIdEmpty', 'openSpaceId is required');
    const results: Array<{
      spaceType: string;
      spaceId: string;
      success: boolean;
      errorMsg?: string;
      carrierId?: string;
    }> = [];
    const spaces: Omit<CardSpace, 'deliveredAt'>[] = [];
    for (const raw of body.openSpaceId.split(';').filter((s) => s !== '')) {
      const m = SPACE.exec(raw.trim());
      if (!m)
        throw refuse(
          'param.openSpaceIdInvalid',
          `openSpaceId: expected dtv1.card//IM_ROBOT.<userId> or dtv1.card//IM_GROUP.<openConversationId>`,
        );
      const spaceType = m[1]!.toUpperCase() as CardSpace['spaceType'];
      const id = m[2]!;
      const model = spaceType === 'IM_ROBOT' ? body.imRobotOpenDeliverModel : body.imGroupOpenDeliverModel;
      if (!model)
        throw refuse(
          'param.spaceDeliverModelEmpty',
          `${spaceType} needs ${spaceType === 'IM_ROBOT' ? 'imRobotOpenDeliverModel' : 'imGroupOpenDeliverModel'}`,
        );
      if (spaceType === 'IM_ROBOT' && !platform.repos.users.byUserId(id)) {
        results.push({ spaceType, spaceId: id, success: false, errorMsg: 'user not found' });
        continue;
      }
      spaces.push({ spaceType, id, openSpaceId: raw.trim() });
      results.push({
        spaceType,
        spaceId: id,
        success: true,
        carrierId: `carrier-${card.outTrackId}-${spaces.length}`,
      });
    }
    if (spaces.length > 0) cards.deliver(card, spaces);
    return results;
  };

  scope.post('/v1.0/card/instances', { onRequest: guard }, async (request) => {
    const card = create(clientOf(request), parse(createBody, request.body));
    return { success: true, result: card.outTrackId };
  });

  scope.post('/v1.0/card/instances/deliver', { onRequest: guard }, async (request) => {
    const body = parse(deliverBody, request.body);
    return { success: true, result: deliver(own(clientOf(request), body.outTrackId), body) };
  });

  scope.post('/v1.0/card/instances/createAndDeliver', { onRequest: guard }, async (request) => {
    const body = parse(createBody.and(deliverBody), request.body);
    if (!body.openSpaceId) throw refuse('param.openSpaceIdEmpty', 'openSpaceId is required');
    const card = create(clientOf(request), body);
    return { success: true, result: { outTrackId: card.outTrackId, deliverResults: deliver(card, body) } };
  });

  scope.put('/v1.0/card/streaming', { onRequest: guard }, async (request) => {
    const body = parse(streamingBody, request.body);
    const card = own(clientOf(request), body.outTrackId);
    if (!body.guid) throw refuse('param.guidEmpty', 'guid is required');
    if (!body.key) throw refuse('param.keyEmpty', 'key is required');
    if (body.content === undefined) throw refuse('param.contentEmpty', 'content is required');
    if (card.spaces.length === 0)
      throw refuse('param.cardNotDelivered', 'the card has not been delivered (sandbox code)');
    if (card.streaming?.key === body.key && card.streaming.finalized)
      throw refuse('param.streamingFinalized', `streaming of ${body.key} was finalized (sandbox code)`);
    cards.stream(card, {
      key: body.key,
      content: body.content,
      isFull: body.isFull ?? false,
      isFinalize: body.isFinalize ?? false,
      isError: body.isError ?? false,
    });
    return { success: true, result: true };
  });

  scope.put('/v1.0/card/instances', { onRequest: guard }, async (request) => {
    const body = parse(updateBody, request.body);
    const card = own(clientOf(request), body.outTrackId);
    const params = body.cardData?.cardParamMap;
    if (!params) throw refuse('param.cardPublicDataEmpty', 'cardData.cardParamMap is required');
    cards.update(card, { ...params }, body.cardUpdateOptions?.updateCardDataByKey === true);
    return { success: true, result: true };
  });
}

export type { CardRegistry };
