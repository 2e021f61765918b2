import { z } from 'zod';

const appField = z.string().min(1).optional();

/** `POST /sandbox/events` */
export const pushEventBody = z
  .object({
    clientId: appField,
    eventType: z.string().min(1),
    data: z.unknown().optional(),
    rawData: z.string().optional(),
    eventId: z.string().min(1).optional(),
    corpId: z.string().min(1).optional(),
    duplicate: z.boolean().optional(),
    /** Answer only once the event is acked, given up or cancelled (or `waitTimeoutMs` passed). */
    wait: z.boolean().optional(),
    waitTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  })
  .strict();

/** `POST /sandbox/callbacks` */
export const invokeCallbackBody = z
  .object({
    clientId: appField,
    topic: z.string().min(1),
    data: z.unknown().optional(),
    rawData: z.string().optional(),
    timeoutMs: z.number().int().min(1).max(600_000).optional(),
    /** Redelivery delays for this callback if it goes unanswered (default: the sandbox's `callbackRedelivery`). */
    redelivery: z.array(z.number().int().min(0).max(86_400_000)).max(100).optional(),
  })
  .strict();

/** `POST /sandbox/faults/acks` */
export const ackFaultBody = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z.object({ mode: z.literal('withhold') }).strict(),
  z.object({ mode: z.literal('delay'), delayMs: z.number().int().min(0).max(600_000) }).strict(),
]);

/** `POST /sandbox/connections/:id/disconnect` */
export const disconnectBody = z.object({ reason: z.string().min(1).optional() }).strict();

/** `POST /sandbox/connections/:id/send` */
export const sendRawBody = z.object({ text: z.string().min(1) }).strict();

/** `POST /sandbox/connections/:id/blast` */
export const blastBody = z
  .object({
    count: z.number().int().min(1).max(10_000_000),
    type: z.enum(['CALLBACK', 'EVENT']).optional(),
    topic: z.string().min(1).optional(),
    data: z.string().optional(),
    awaitAcks: z.boolean().optional(),
    ackTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  })
  .strict();

/** `POST /sandbox/gateway/reset` */
export const resetBody = z.object({ dropConnections: z.boolean().optional() }).strict();

/** `GET /sandbox/deliveries` query */
export const deliveriesQuery = z
  .object({
    since: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(100_000).optional(),
    type: z.enum(['EVENT', 'CALLBACK', 'SYSTEM', 'UPSTREAM', 'RAW']).optional(),
    topic: z.string().optional(),
    eventId: z.string().optional(),
    messageId: z.string().optional(),
    connectionId: z.string().optional(),
  })
  .strict();

/** `GET /sandbox/connections` query */
export const connectionsQuery = z
  .object({ state: z.enum(['open', 'disconnecting', 'closed', 'all']).optional() })
  .strict();

/** `:id` path parameter */
export const idParams = z.object({ id: z.string().min(1) });
