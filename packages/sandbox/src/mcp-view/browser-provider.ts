import { randomBytes } from 'node:crypto';
import { HeadlessOAuthProvider } from '../mcp-client/mcp-call.js';

/**
 * The OAuth client of the page's MCP client view: the official SDK's provider (registration, tokens
 * and PKCE verifier in memory, on the sandbox server) whose redirect URI is the sandbox's own
 * `/sandbox/mcp/callback`, and which sends a fresh random `state` with every authorization so the
 * callback finds the session it belongs to (and a forged callback finds none).
 */
export class BrowserOAuthProvider extends HeadlessOAuthProvider {
  /** The `state` of the authorization in progress (single use). */
  pendingState: string | undefined;

  constructor(readonly callbackUrl: string) {
    super('dingtalk-skills sandbox · MCP client view');
  }

  override get redirectUrl(): string {
    return this.callbackUrl;
  }

  override get clientMetadata() {
    return { ...super.clientMetadata, redirect_uris: [this.callbackUrl] };
  }

  state(): string {
    this.pendingState = randomBytes(24).toString('base64url');
    return this.pendingState;
  }
}
