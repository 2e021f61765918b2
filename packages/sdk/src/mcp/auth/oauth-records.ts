import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { StateStore } from '../../state/state-store.js';

/** A fresh random secret (32 bytes, base64url): tokens, codes, states, nonces. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored in place of a secret: its SHA-256 (so a store dump leaks no usable token). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** An MCP client's pending authorization request, kept between our consent page and DingTalk's. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  /** The MCP client's own state, echoed back to it. */
  clientState?: string;
  /** DingTalk scopes asked for. */
  scopes: string[];
  resource: string;
}

/** A grant after DingTalk's login: who (verified unionId), which client, which scopes, for which resource. */
export interface GrantRecord {
  /** One authorization's lineage: every token rotated from it shares it, and dies with it. */
  family: string;
  clientId: string;
  unionId: string;
  scopes: string[];
  resource: string;
}

export interface CodeRecord extends Omit<GrantRecord, 'family'> {
  codeChallenge: string;
  redirectUri: string;
}

export interface AccessTokenRecord extends GrantRecord {
  /** Epoch seconds. */
  expiresAt: number;
}

/**
 * Everything the authorization server keeps, in the shared state store under `mcp:` keys, so several
 * instances on one Redis serve the same clients and tokens. Secrets are keyed by their hash; single use
 * is a `delete` that only one caller can win.
 */
export class OAuthRecords {
  readonly #store: StateStore;
  readonly #ns: string;

  constructor(store: StateStore, namespace: string) {
    this.#store = store;
    this.#ns = `mcp:${namespace}:`;
  }

  async #getJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.#store.get(this.#ns + key);
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined;
    }
  }

  async #put(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.#store.set(this.#ns + key, JSON.stringify(value), ttlMs);
  }

  /** Reads and deletes (single use): undefined when absent or when another caller took it first. */
  async #take<T>(key: string): Promise<T | undefined> {
    const value = await this.#getJson<T>(key);
    if (value === undefined) return undefined;
    return (await this.#store.delete(this.#ns + key)) ? value : undefined;
  }

  getClient(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    return this.#getJson(`client:${clientId}`);
  }
  putClient(client: OAuthClientInformationFull, ttlMs: number): Promise<void> {
    return this.#put(`client:${client.client_id}`, client, ttlMs);
  }
  /** Counts registrations in a window (bounds dynamic client registration across instances). */
  countRegistration(windowMs: number): Promise<number> {
    const bucket = Math.floor(Date.now() / windowMs);
    return this.#store.incrWithTtl(`${this.#ns}registrations:${bucket}`, windowMs);
  }

  /** Counts client metadata document fetches in a window (bounds CIMD like registration). */
  countMetadataFetch(windowMs: number): Promise<number> {
    const bucket = Math.floor(Date.now() / windowMs);
    return this.#store.incrWithTtl(`${this.#ns}cimd-fetches:${bucket}`, windowMs);
  }

  putPending(nonce: string, pending: PendingAuthorization, ttlMs: number): Promise<void> {
    return this.#put(`pending:${hashSecret(nonce)}`, pending, ttlMs);
  }
  getPending(nonce: string): Promise<PendingAuthorization | undefined> {
    return this.#getJson(`pending:${hashSecret(nonce)}`);
  }
  takePending(nonce: string): Promise<PendingAuthorization | undefined> {
    return this.#take(`pending:${hashSecret(nonce)}`);
  }

  /** Our `state` toward DingTalk, bound to the browser that consented (`browserHash`). */
  putUpstreamState(
    state: string,
    value: PendingAuthorization & { browserHash: string },
    ttlMs: number,
  ): Promise<void> {
    return this.#put(`upstate:${hashSecret(state)}`, value, ttlMs);
  }
  takeUpstreamState(state: string): Promise<(PendingAuthorization & { browserHash: string }) | undefined> {
    return this.#take(`upstate:${hashSecret(state)}`);
  }

  putCode(code: string, record: CodeRecord, ttlMs: number): Promise<void> {
    return this.#put(`code:${hashSecret(code)}`, record, ttlMs);
  }
  peekCode(code: string): Promise<CodeRecord | undefined> {
    return this.#getJson(`code:${hashSecret(code)}`);
  }
  takeCode(code: string): Promise<CodeRecord | undefined> {
    return this.#take(`code:${hashSecret(code)}`);
  }

  putAccessToken(token: string, record: AccessTokenRecord, ttlMs: number): Promise<void> {
    return this.#put(`at:${hashSecret(token)}`, record, ttlMs);
  }
  getAccessToken(token: string): Promise<AccessTokenRecord | undefined> {
    return this.#getJson(`at:${hashSecret(token)}`);
  }
  async deleteAccessToken(token: string): Promise<void> {
    await this.#store.delete(`${this.#ns}at:${hashSecret(token)}`);
  }

  putRefreshToken(token: string, record: GrantRecord, ttlMs: number): Promise<void> {
    return this.#put(`rt:${hashSecret(token)}`, record, ttlMs);
  }
  getRefreshToken(token: string): Promise<GrantRecord | undefined> {
    return this.#getJson(`rt:${hashSecret(token)}`);
  }
  takeRefreshToken(token: string): Promise<GrantRecord | undefined> {
    return this.#take(`rt:${hashSecret(token)}`);
  }

  /** Revokes a whole lineage: its access tokens stop working and its refresh token is refused. */
  async killFamily(family: string, ttlMs: number): Promise<void> {
    await this.#store.set(`${this.#ns}dead:${family}`, '1', ttlMs);
  }
  async isFamilyDead(family: string): Promise<boolean> {
    return (await this.#store.get(`${this.#ns}dead:${family}`)) !== null;
  }
}
