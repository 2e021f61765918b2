import { createLogger, type Logger, type LogLevel } from '@dingtalk-skills/sdk';

/** The CLI's logger: JSON lines on stderr (stdout stays for what the command prints), secrets redacted. */
export function cliLogger(level: LogLevel, secrets: string[], name = 'dingtalk-skills'): Logger {
  return createLogger({ level, name, secrets, destination: process.stderr });
}
