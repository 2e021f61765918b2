import type { Logger } from '@dingtalk-skills/sdk';
import type { SandboxClock } from './clock.js';
import type { SandboxApp, SandboxOptions } from './options.js';

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
  findApp(clientId: string): SandboxApp | undefined;
}
