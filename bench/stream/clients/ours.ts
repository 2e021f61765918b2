/**
 * Ours: `StreamClient` from the SDK (bundled from its TypeScript source, so the bench measures the code in
 * the tree, not a stale dist), with its defaults and a silent logger. The handler gets the raw `data` and
 * returns the Graph response; the client acks `{"response": result}`.
 */
import { silentLogger } from '../../../packages/sdk/src/logging/index.js';
import { StreamClient } from '../../../packages/sdk/src/stream/index.js';
import { answerGraphCallback, GRAPH_TOPIC } from '../workload.js';
import type { StartClient } from './types.js';

export const start: StartClient = async ({ apiBase, clientId, clientSecret }) => {
  const client = new StreamClient({ clientId, clientSecret, apiBase, logger: silentLogger() });
  client.onCallback(GRAPH_TOPIC, async (msg) => answerGraphCallback(msg.data));
  await client.start();
  return { stop: () => client.stop() };
};
