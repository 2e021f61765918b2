export { LogBudget } from './log-budget.js';
export {
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  type LogLevel,
  SECRET_KEYS,
  scrubSecrets,
  silentLogger,
} from './logger.js';
