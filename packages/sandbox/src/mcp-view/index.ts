export { BrowserOAuthProvider } from './browser-provider.js';
export { type McpViewDeps, registerMcpView } from './routes.js';
export {
  type McpViewOperation,
  type McpViewSession,
  McpViewSessions,
  type McpViewStep,
} from './sessions.js';
