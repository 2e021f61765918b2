import type { Logger } from '@dingtalk-skills/sdk';
import type { SandboxClock } from './clock.js';
import type { SandboxOptions } from './options.js';

/** An app as the gateway and the control API refer to it (never its secret). */
export interface AppRef {
  clientId: string;
  name?: string;
}

/**
 * What every part of the sandbox (gateway, control API, platform) shares. Built once by
 * `createSandbox`; parts read it, none replace it.
 */
export interface SandboxContext {
  /** Every expiry check reads `clock.now()`. */
  clock: SandboxClock;
  /** Redacting logger (never log secrets, tokens, codes or tickets). */
  logger: Logger;
  /** Validated options, defaults filled in. */
  options: SandboxOptions;
  /** The sandbox's base URL (`http://127.0.0.1:<port>`). Throws before the server listens. */
  url(): string;
  /** The registered app with this clientId, if any. */
  findApp(clientId: string): AppRef | undefined;
  /**
   * Checks an app's credentials (connections/open). `createSandbox` answers from the platform's
   * apps, so apps registered at runtime can connect too. Without it the gateway checks
   * `options.apps`.
   */
  authenticateApp?(clientId: string, clientSecret: string): AppRef | undefined;
}
