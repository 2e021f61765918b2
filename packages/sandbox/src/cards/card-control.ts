import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ControlError, controlErrorHandler } from '../control/errors.js';
import { parseInput } from '../control/validate.js';
import { useLenientJson } from '../platform/json-body.js';
import type { Platform } from '../platform/platform.js';
import { cardRegistryOf, type SandboxCard } from './card-registry.js';

const schemas = {
  list: z.object({
    clientId: z.string().min(1).max(128).optional(),
    spaceId: z.string().min(1).max(256).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  }),
  card: z.object({ outTrackId: z.string().min(1).max(128) }),
  qps: z.object({ qps: z.number().int().min(0).max(100_000) }),
};

/** A card as the control API shows it: its state, the streamed text and flow status up front. */
export function describeCard(card: SandboxCard, withHistory: boolean) {
  const key = card.streaming?.key ?? 'msgContent';
  return {
    outTrackId: card.outTrackId,
    clientId: card.clientId,
    templateId: card.templateId,
    flowStatus: card.params.flowStatus ?? null,
    text: card.params[key] ?? '',
    params: card.params,
    spaces: card.spaces,
    streaming: card.streaming,
    version: card.version,
    createdAt: card.createdAt,
    updatedAt: card.updatedAt,
    ...(withHistory ? { history: card.history, historyDropped: card.historyDropped } : {}),
  };
}

/**
 * The card part of the control API (JSON): read cards and their history, the card QPS limit (a
 * fault: `PUT /sandbox/cards/qps-limit {qps}`, 0 = off) and the QPS meter.
 *
 * - `GET /sandbox/cards?clientId=&spaceId=&limit=` cards, newest first (no history)
 * - `GET /sandbox/cards/:outTrackId` one card with its history (404 `notFound`)
 * - `DELETE /sandbox/cards` forget every card
 * - `GET|PUT /sandbox/cards/qps-limit` the card QPS limit per app
 * - `GET /sandbox/cards/stats`, `DELETE /sandbox/cards/stats` the meter (calls, 403s, max QPS seen)
 */
export async function registerCardControl(scope: FastifyInstance, platform: Platform): Promise<void> {
  const cards = cardRegistryOf(platform);
  const log = platform.logger.child({ component: 'card-control' });
  useLenientJson(scope, (message) => ControlError.invalid(message, 'body'));
  scope.setErrorHandler(controlErrorHandler(log));

  scope.get('/sandbox/cards', async (request) => {
    const q = parseInput(schemas.list, request.query, 'query');
    const filter = {
      ...(q.clientId === undefined ? {} : { clientId: q.clientId }),
      ...(q.spaceId === undefined ? {} : { spaceId: q.spaceId }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    };
    return { cards: cards.list(filter).map((c) => describeCard(c, false)) };
  });

  scope.delete('/sandbox/cards', async () => {
    cards.clear();
    return { cards: [] };
  });

  scope.get('/sandbox/cards/qps-limit', async () => ({ qps: cards.qps.limit }));
  scope.put('/sandbox/cards/qps-limit', async (request) => {
    const { qps } = parseInput(schemas.qps, request.body);
    cards.qps.limit = qps;
    log.info({ qps }, qps === 0 ? 'card QPS limit off' : 'card QPS limit set');
    return { qps };
  });

  scope.get('/sandbox/cards/stats', async () => cards.qps.stats());
  scope.delete('/sandbox/cards/stats', async () => {
    cards.qps.resetStats();
    return cards.qps.stats();
  });

  scope.get('/sandbox/cards/:outTrackId', async (request) => {
    const { outTrackId } = parseInput(schemas.card, request.params, 'params');
    const card = cards.get(outTrackId);
    if (!card) throw ControlError.notFound(`unknown card ${outTrackId}`, 'outTrackId');
    return describeCard(card, true);
  });
}
