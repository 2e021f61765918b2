import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@dingtalk-skills/sdk';

/** One parsed log line. */
export interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** pino level numbers. */
export const LogLevelNumber = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 } as const;

/**
 * The library's real logger (pino, with its redaction) writing into memory, so tests can assert what
 * was logged (and that secrets were not).
 */
export class CaptureLogger {
  readonly entries: LogEntry[] = [];
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor(options: { level?: 'trace' | 'debug' | 'info' | 'warn'; secrets?: string[] } = {}) {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line === '') continue;
          this.lines.push(line);
          this.entries.push(JSON.parse(line) as LogEntry);
        }
        done();
      },
    });
    this.logger = createLogger({
      level: options.level ?? 'debug',
      secrets: options.secrets ?? [],
      destination: sink,
    });
  }

  /** Entries whose message contains `text`. */
  find(text: string): LogEntry[] {
    return this.entries.filter((e) => typeof e.msg === 'string' && e.msg.includes(text));
  }

  /** Everything logged, as one string (to check a secret never appears). */
  all(): string {
    return this.lines.join('\n');
  }
}
