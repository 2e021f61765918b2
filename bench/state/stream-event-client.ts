/**
 * Child process of the state suite's `stream-event` case: ours (`StreamClient` from the SDK source) with an
 * EVENT handler that does nothing, its dedup on the store named by `dedup` (`memory:` = the client's
 * default in-memory store; `redis://...` = `StateDedupStore` on a `RedisStateStore`, the lease protocol:
 * claim, then mark done before the ack). CPU is measured between the parent's `begin` and `end`
 * (`../stream/child.ts`).
 */
import { silentLogger } from '../../packages/sdk/src/logging/index.js';
import { createStateStore, StateDedupStore, type StateStore } from '../../packages/sdk/src/state/index.js';
import { StreamClient } from '../../packages/sdk/src/stream/index.js';
import { runChild } from '../stream/child.js';
import type { BenchClientConfig } from '../stream/clients/types.js';

/** What the parent passes besides the gateway: where dedup lives. */
export interface StreamEventClientConfig extends BenchClientConfig {
  dedup: string;
}

runChild(async (config) => {
  const { apiBase, clientId, clientSecret, dedup } = config as StreamEventClientConfig;
  const logger = silentLogger();
  let store: StateStore | undefined;
  if (dedup !== 'memory:') store = await createStateStore(dedup, { logger, prefix: `bench-${process.pid}:` });
  const client = new StreamClient({
    clientId,
    clientSecret,
    apiBase,
    logger,
    ...(store ? { dedupStore: new StateDedupStore(store, { namespace: `dedup:${clientId}` }) } : {}),
  });
  client.onEvent(() => undefined);
  await client.start();
  return {
    stop: async () => {
      await client.stop();
      await store?.close();
    },
  };
});
