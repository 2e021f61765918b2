/**
 * Graceful stop on SIGINT/SIGTERM: the first signal runs `stop` (drain, ack, close); a second one
 * exits at once. Resolves when the process should exit.
 */
export function onShutdown(stop: () => Promise<void>, log: (msg: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    log(`${signal}: stopping (in-flight work drains; send ${signal} again to exit at once)`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
