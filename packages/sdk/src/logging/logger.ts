import pino from 'pino';

/** The logger interface the library writes to. pino's loggers satisfy it; so can any other. */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /**
   * Whether lines of `level` are written (pino's loggers have it). Optional: when absent, the library
   * builds every line; with it, a per-message debug line is not even built when debug is off.
   */
  isLevelEnabled?(level: string): boolean;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Keys whose values never reach a log line, at any depth the redactor knows. */
export const SECRET_KEYS = [
  'clientSecret',
  'appSecret',
  'appsecret',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'authCode',
  'oauthAuthCode',
  'ticket',
  'token',
  'x-acs-dingtalk-access-token',
  'authorization',
  'secret',
] as const;

const CENSOR = '[redacted]';

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const dot = k.startsWith('[') ? '' : '.';
    paths.push(k, `*${dot}${k}`, `*.*${dot}${k}`, `*.*.*${dot}${k}`);
  }
  return paths;
}

/**
 * Replaces every occurrence of the given secret values in a string. Used for messages and for
 * values that carry secrets inside text (URLs with a ticket, request bodies).
 */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s.length >= 6 && out.includes(s)) out = out.split(s).join(CENSOR);
  // Anything shaped like a token or ticket in a query string.
  return out.replace(
    /([?&](?:ticket|code|authCode|access_token|accessToken|refreshToken|refresh_token|appsecret|appSecret|clientSecret|client_secret)=)[^&\s"]+/g,
    `$1${CENSOR}`,
  );
}

export interface CreateLoggerOptions {
  level?: LogLevel;
  /** Name bound to every line. */
  name?: string;
  /** Extra literal values (e.g. the client secret) scrubbed from every message string. */
  secrets?: string[];
  /** Where lines go (default stdout). */
  destination?: pino.DestinationStream;
}

/**
 * A pino logger that redacts secrets by key (clientSecret, tokens, auth codes, tickets) at any
 * depth up to four levels, and scrubs known secret values and token-bearing query strings out of messages.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const secrets = options.secrets ?? [];
  const opts: pino.LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: redactPaths(), censor: CENSOR },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a, secrets) : a));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  if (options.name !== undefined) opts.name = options.name;
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that writes nothing (for tests and benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
