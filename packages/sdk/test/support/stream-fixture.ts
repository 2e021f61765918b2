import { StreamClient, type StreamClientConfig } from '@dingtalk-skills/sdk';
import { afterEach, beforeEach } from 'vitest';
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

/**
 * A fresh fixture for every test: registers a `beforeEach` that starts one and an `afterEach` that closes
 * it. Call once at the top of a test file; the object it returns stands for the running test's fixture.
 */
export function streamFixturePerTest(): StreamFixture {
  let fx: StreamFixture | undefined;
  beforeEach(async () => {
    fx = await streamFixture();
  });
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });
  const current = (): StreamFixture => {
    if (!fx) throw new Error('the stream fixture exists only while a test runs');
    return fx;
  };
  return {
    get gateway() {
      return current().gateway;
    },
    get logs() {
      return current().logs;
    },
    client: (overrides) => current().client(overrides),
    close: () => current().close(),
  };
}
