import { StreamClient, type StreamClientConfig } from '@dingtalk-skills/sdk';
import { CaptureLogger } from './capture-logger.js';
import { TestGateway } from './test-gateway.js';

/** A gateway, a capturing logger and the clients made against them; `close()` tears all down. */
export interface StreamFixture {
  gateway: TestGateway;
  logs: CaptureLogger;
  /** A client against the gateway with fast test timings; `overrides` win. */
  client(overrides?: Partial<StreamClientConfig>): StreamClient;
  close(): Promise<void>;
}

/** Fast timings so tests finish quickly: they are only defaults, each test may override. */
export const FAST: Partial<StreamClientConfig> = {
  handlerTimeoutMs: 2_000,
  stopTimeoutMs: 2_000,
  openTimeoutMs: 2_000,
  reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  keepalive: { intervalMs: 5_000, timeoutMs: 1_000 },
};

export async function streamFixture(): Promise<StreamFixture> {
  const gateway = await TestGateway.start();
  const logs = new CaptureLogger({ secrets: [gateway.clientSecret] });
  const clients: StreamClient[] = [];
  return {
    gateway,
    logs,
    client(overrides = {}) {
      const c = new StreamClient({
        ...gateway.clientConfig(),
        logger: logs.logger,
        localIp: '127.0.0.1',
        ...FAST,
        ...overrides,
      });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.stop()));
      await gateway.close();
    },
  };
}
