/**
 * The official `dingtalk-stream` npm client (unchanged). It hardcodes
 * `https://api.dingtalk.com/v1.0/gateway/connections/open` in `getEndpoint()`, so this subclass overrides
 * that one method to ask the local gateway instead and sets the same `dw_url` the original sets; the
 * rest (socket, frame handling, callback dispatch, `socketCallBackResponse`) is the official code.
 */
import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import { answerGraphCallback, GRAPH_TOPIC } from '../workload.js';
import type { StartClient } from './types.js';

class LocalGatewayDWClient extends DWClient {
  constructor(
    opts: { clientId: string; clientSecret: string },
    private readonly openUrl: string,
  ) {
    super({ ...opts, debug: false, keepAlive: false });
  }

  /** Same request and result as the original, aimed at the bench gateway. */
  override async getEndpoint(): Promise<this> {
    const { clientId, clientSecret, ua, subscriptions } = this.config;
    const res = await fetch(this.openUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId, clientSecret, ua, subscriptions }),
    });
    if (!res.ok) throw new Error(`connections/open answered ${res.status}`);
    const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
    // `dw_url` is private in the typings; the original getEndpoint() sets it exactly like this.
    Reflect.set(this, 'dw_url', `${endpoint}?ticket=${ticket}`);
    return this;
  }
}

export const start: StartClient = async ({ apiBase, clientId, clientSecret }) => {
  const client = new LocalGatewayDWClient(
    { clientId, clientSecret },
    `${apiBase}/v1.0/gateway/connections/open`,
  );
  client.registerCallbackListener(GRAPH_TOPIC, (msg: DWClientDownStream) => {
    client.socketCallBackResponse(msg.headers.messageId, answerGraphCallback(msg.data));
  });
  // connect() swallows failures and retries in the background; check that it really connected.
  await client.connect();
  if (!client.connected) {
    client.disconnect();
    throw new Error('the official client did not connect');
  }
  return {
    stop: async () => {
      client.disconnect();
    },
  };
};
