export type { BotRuntimeOptions } from './bot-runtime.js';
export { type AppDefinition, defineApp, type EventHandler, isAppDefinition } from './define-app.js';
export {
  type AppRuntimeConfig,
  createAppRuntime,
  type RunningApp,
  startApp,
  startAppMcp,
} from './runtime.js';
