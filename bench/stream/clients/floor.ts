/**
 * The floor: a raw `ws` client doing only what the protocol requires. It opens a connection, parses each
 * frame, answers pings, runs the shared workload handler for CALLBACKs and acks `{"response": ...}`.
 * No validation, no logging, no routing: the least any correct client can do.
 */
import { WebSocket } from 'ws';
import { answerGraphCallback, GRAPH_TOPIC } from '../workload.js';
import type { StartClient } from './types.js';

interface RawFrame {
  type: string;
  headers: { messageId: string; topic: string };
  data: string;
}

function ack(messageId: string, data: string): string {
  return JSON.stringify({
    code: 200,
    headers: { messageId, contentType: 'application/json' },
    message: 'OK',
    data,
  });
}

export const start: StartClient = async ({ apiBase, clientId, clientSecret }) => {
  const res = await fetch(`${apiBase}/v1.0/gateway/connections/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      clientId,
      clientSecret,
      subscriptions: [{ type: 'CALLBACK', topic: GRAPH_TOPIC }],
    }),
  });
  if (!res.ok) throw new Error(`connections/open answered ${res.status}`);
  const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
  const ws = new WebSocket(`${endpoint}?ticket=${encodeURIComponent(ticket)}`, { perMessageDeflate: false });
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as RawFrame;
    const id = frame.headers.messageId;
    if (frame.type === 'CALLBACK') {
      ws.send(ack(id, JSON.stringify({ response: answerGraphCallback(frame.data) })));
    } else if (frame.type === 'SYSTEM' && frame.headers.topic === 'ping') {
      ws.send(ack(id, frame.data));
    } else if (frame.type === 'EVENT') {
      ws.send(ack(id, '{"status":"SUCCESS","message":"OK"}'));
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close(1000);
      }),
  };
};
