export {
  type ConsentStepKind,
  ConsentWalkError,
  type ConsentWalkStep,
  CookieJar,
  type WalkOptions,
  walkConsent,
} from './consent-walker.js';
export {
  HEADLESS_REDIRECT_URI,
  HeadlessOAuthProvider,
  type McpCallAnswer,
  type McpCallOptions,
  type McpCallStep,
  mcpCall,
} from './mcp-call.js';
