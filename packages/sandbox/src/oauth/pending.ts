import type { SandboxClock } from '../clock.js';
import { newOpaqueToken } from '../platform/ids.js';
import { Lifetime } from '../platform/lifetimes.js';

/** A validated `/oauth2/auth` request waiting for the user's decision on the consent page. */
export interface PendingConsent {
  clientId: string;
  redirectUri: string;
  /** Scope codes as requested (before `openid` expansion). */
  scopes: string[];
  state?: string;
  expiresAt: number;
}

/**
 * Consent requests shown on a page, keyed by a random nonce that the page posts back. A nonce is
 * good once, for {@link Lifetime.consentMs}; it ties the decision to the request that was validated.
 */
export class PendingConsents {
  readonly #clock: SandboxClock;
  readonly #byNonce = new Map<string, PendingConsent>();

  constructor(clock: SandboxClock) {
    this.#clock = clock;
  }

  add(request: Omit<PendingConsent, 'expiresAt'>): string {
    const now = this.#clock.now();
    for (const [nonce, p] of this.#byNonce) if (p.expiresAt <= now) this.#byNonce.delete(nonce);
    const nonce = newOpaqueToken();
    this.#byNonce.set(nonce, { ...request, expiresAt: now + Lifetime.consentMs });
    return nonce;
  }

  /** Removes and returns the request for a nonce; undefined when unknown, used or expired. */
  take(nonce: string): PendingConsent | undefined {
    const p = this.#byNonce.get(nonce);
    if (!p) return undefined;
    this.#byNonce.delete(nonce);
    return p.expiresAt > this.#clock.now() ? p : undefined;
  }

  clear(): void {
    this.#byNonce.clear();
  }
}
