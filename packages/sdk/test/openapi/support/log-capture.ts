import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@dingtalk-skills/sdk';

/** A real redacting logger whose lines are kept in memory, to assert what was (not) logged. */
export interface LogCapture {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
  text: () => string;
}

export function captureLogs(level: 'debug' | 'info' | 'trace' = 'debug', secrets: string[] = []): LogCapture {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level, destination, secrets });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
