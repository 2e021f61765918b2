import { createLogger, type Logger, type LogLevel } from '@dingtalk-skills/sdk';
import pretty from 'pino-pretty';

import type { LogFormat } from './exit-codes.js';

export type { LogFormat };

/** How the CLI logs: the chosen format and whether to colour it. */
export interface LogOutput {
  format: LogFormat;
  colour: boolean;
}

/**
 * The CLI decides how to log (the library never reads the environment): `--log-format` when given,
 * else pretty on a terminal and NDJSON when stderr is a pipe or a file. Colour only when pretty, on a
 * terminal, and `NO_COLOR` is not set (https://no-color.org).
 */
export function chooseLogOutput(
  flag: LogFormat | undefined,
  noColor: string | undefined,
  isTty = process.stderr.isTTY === true,
): LogOutput {
  const format = flag ?? (isTty ? 'pretty' : 'json');
  return { format, colour: format === 'pretty' && isTty && (noColor === undefined || noColor === '') };
}

/** The CLI's logger on stderr (stdout stays for what the command prints), secrets redacted. */
export function cliLogger(
  level: LogLevel,
  secrets: string[],
  name = 'dingtalk-skills',
  output: LogOutput = { format: 'json', colour: false },
): Logger {
  if (output.format === 'json') return createLogger({ level, name, secrets, destination: process.stderr });
  const destination = pretty({
    colorize: output.colour,
    destination: 2,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // A skill error's stack on its own lines, not one escaped JSON string.
    errorLikeObjectKeys: ['err', 'error'],
  });
  return createLogger({ level, name, secrets, destination });
}
