import type { FastifyInstance } from 'fastify';
import type { CallbackResult } from '../gateway/callbacks.js';
import type { EventResult } from '../gateway/events.js';
import type { Gateway } from '../gateway/gateway.js';
import {
  ackFaultBody,
  blastBody,
  connectionsQuery,
  deliveriesQuery,
  disconnectBody,
  idParams,
  invokeCallbackBody,
  pushEventBody,
  resetBody,
  sendRawBody,
} from './gateway-schemas.js';
import { parseInput } from './validate.js';

const CALLBACK_STATUS: Record<string, number> = {
  noSubscriber: 409,
  unknownApp: 404,
  frameTooLarge: 413,
  connectionLost: 502,
  clientError: 502,
  malformedAck: 502,
  gatewayClosed: 503,
  connectionNotOpen: 409,
  unknownConnection: 404,
};

/** HTTP status for a callback result: 200 answered, 504 timeout, 4xx/5xx by error code. */
export function callbackHttpStatus(result: CallbackResult): number {
  if (result.status === 'answered') return 200;
  if (result.status === 'timeout') return 504;
  return CALLBACK_STATUS[result.code] ?? 502;
}

/** The gateway part of the control API, registered inside the `/sandbox` scope. */
export async function registerGatewayControl(scope: FastifyInstance, gateway: Gateway): Promise<void> {
  scope.get('/connections', async (req) => {
    const { state = 'all' } = parseInput(connectionsQuery, req.query, 'query');
    const all = gateway.listConnections();
    return { connections: state === 'all' ? all : all.filter((c) => c.state === state) };
  });

  scope.get('/connections/:id', async (req, reply) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const info = gateway.getConnection(id);
    if (info === undefined)
      return reply.code(404).send({ code: 'unknownConnection', message: `no connection ${id}` });
    return info;
  });

  scope.post('/connections/:id/drop', async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    return { connection: await gateway.drop(id) };
  });

  scope.post('/connections/:id/disconnect', async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { reason } = parseInput(disconnectBody, req.body);
    return { connection: gateway.disconnect(id, reason) };
  });

  scope.post('/connections/:id/ping', async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    return { messageId: gateway.ping(id) };
  });

  scope.post('/connections/:id/send', async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { text } = parseInput(sendRawBody, req.body);
    return { delivery: gateway.sendRaw(id, text) };
  });

  scope.post('/connections/:id/blast', async (req) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const body = parseInput(blastBody, req.body);
    return gateway.blast(id, body);
  });

  scope.post('/events', async (req, reply) => {
    const { wait, waitTimeoutMs, ...push } = parseInput(pushEventBody, req.body);
    const pushed = gateway.pushEvent(push);
    if (pushed.messageId === undefined) {
      // No live connection: held until the app connects (202), `wait` or not.
      return reply.code(202).send({ eventId: pushed.eventId, status: 'held', heldSince: pushed.heldSince });
    }
    if (!wait) return { eventId: pushed.eventId, messageId: pushed.messageId };
    const result = await settleWithin(pushed.done, waitTimeoutMs ?? 60_000, {
      eventId: pushed.eventId,
      status: 'pending',
      attempts: 0,
      messageIds: [pushed.messageId],
    });
    return { eventId: pushed.eventId, messageId: pushed.messageId, result };
  });

  scope.get('/events/held', async () => ({ held: gateway.heldEvents() }));

  scope.post('/callbacks', async (req, reply) => {
    const body = parseInput(invokeCallbackBody, req.body);
    const result = await gateway.invokeCallback(body);
    return reply.code(callbackHttpStatus(result)).send(result);
  });

  scope.get('/faults/acks', async () => gateway.ackFault);

  scope.post('/faults/acks', async (req) => {
    const fault = parseInput(ackFaultBody, req.body);
    gateway.setAckFault(fault);
    return gateway.ackFault;
  });

  scope.get('/deliveries', async (req) => {
    const q = parseInput(deliveriesQuery, req.query, 'query');
    const filtered =
      q.type === undefined &&
      q.topic === undefined &&
      q.eventId === undefined &&
      q.messageId === undefined &&
      q.connectionId === undefined;
    let list = gateway.deliveries(q.since ?? 0, filtered ? q.limit : undefined);
    if (!filtered) {
      list = list.filter(
        (d) =>
          (q.type === undefined || d.type === q.type) &&
          (q.topic === undefined || d.topic === q.topic) &&
          (q.eventId === undefined || d.eventId === q.eventId) &&
          (q.messageId === undefined || d.messageId === q.messageId) &&
          (q.connectionId === undefined || d.connectionId === q.connectionId),
      );
      if (q.limit !== undefined) list = list.slice(0, q.limit);
    }
    return { deliveries: list, lastSeq: gateway.deliveryLog.lastSeq };
  });

  scope.post('/gateway/reset', async (req) => {
    const body = parseInput(resetBody, req.body);
    await gateway.reset(body);
    return { reset: true };
  });
}

/** The promise's value, or `fallback` (with the latest known state) if it takes longer than `ms`. */
async function settleWithin(
  done: Promise<EventResult>,
  ms: number,
  fallback: EventResult,
): Promise<EventResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<EventResult>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}
