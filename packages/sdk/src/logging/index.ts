export {
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  type LogLevel,
  SECRET_KEYS,
  scrubSecrets,
  silentLogger,
} from './logger.js';
