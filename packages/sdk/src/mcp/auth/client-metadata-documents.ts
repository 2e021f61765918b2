import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Agent } from 'undici';
import { z } from 'zod';
import type { Logger } from '../../logging/logger.js';
import type { OAuthRecords } from './oauth-records.js';

const requireHere = createRequire(import.meta.url);

/** Client ID metadata documents (CIMD, MCP 2025-11-25): a client_id that is an https URL of its own metadata. */
export interface ClientMetadataDocumentOptions {
  records: OAuthRecords;
  logger: Logger;
  /** Documents fetched per hour across instances (a flood of distinct URLs is bounded like registrations). */
  maxFetchesPerHour: number;
  /** How long a fetched document is kept before it is fetched again. */
  cacheTtlMs: number;
  /**
   * Let documents come from loopback and private addresses (default false: SSRF guard). Only for local
   * development and tests.
   */
  allowPrivateNetwork: boolean;
  /** Extra CA certificate(s) to trust for the documents' https (PEM), e.g. a test CA. */
  ca?: string | undefined;
}

const MAX_BYTES = 16 * 1024;
const TIMEOUT_MS = 5_000;

/** RFC 1918, loopback, link-local, CGNAT, ULA, "this network", multicast and the like. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped ? PRIVATE.check(mapped, 'ipv4') : PRIVATE.check(address, 'ipv6');
}

/** A client_id that names a metadata document: https, a host, a path other than `/`, no fragment. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  if (!clientId.startsWith('https://')) return false;
  try {
    const u = new URL(clientId);
    return u.pathname !== '/' && u.hash === '' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

const documentSchema = z.object({
  client_id: z.string(),
  client_name: z.string().min(1).max(200),
  redirect_uris: z.array(z.url()).min(1).max(10),
  token_endpoint_auth_method: z.literal('none').optional(),
  grant_types: z.array(z.string().max(100)).max(10).optional(),
  response_types: z.array(z.string().max(100)).max(10).optional(),
  client_uri: z.url().optional(),
  logo_uri: z.url().optional(),
  scope: z.string().max(2000).optional(),
});

/**
 * Resolves URL client_ids by fetching their documents, guarded: https only, no redirects, 5 s, 16 KiB,
 * JSON; every address the host resolves to must be public (checked at connect time, so DNS rebinding
 * cannot swap in a private one); the document must name itself as `client_id`. Kept in the shared store.
 */
export class ClientMetadataDocuments {
  readonly #o: ClientMetadataDocumentOptions;
  #agent: Agent | undefined;

  constructor(options: ClientMetadataDocumentOptions) {
    this.#o = options;
  }

  #dispatcher(): Agent {
    const allow = this.#o.allowPrivateNetwork;
    const lookup = (
      hostname: string,
      options: { all?: boolean; family?: number },
      callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
        if (err) return callback(err, []);
        const bad = addresses.find((a) => !allow && isPrivateAddress(a.address));
        if (bad) return callback(new Error(`${hostname} resolves to a private address`), []);
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        if (!first) return callback(new Error(`${hostname} has no address`), []);
        callback(null, first.address, first.family);
      });
    };
    const { Agent } = requireHere('undici') as typeof import('undici');
    this.#agent ??= new Agent({
      connect: { lookup: lookup as never, ...(this.#o.ca ? { ca: this.#o.ca } : {}) },
      connections: 4,
    });
    return this.#agent;
  }

  async get(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    const o = this.#o;
    const cached = await o.records.getClient(clientId);
    if (cached) return cached;
    const url = new URL(clientId);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !o.allowPrivateNetwork && isPrivateAddress(host)) {
      o.logger.warn(
        { event: 'security.cimd_private', clientId },
        'mcp: client metadata URL is private; refused',
      );
      return undefined;
    }
    const count = await o.records.countMetadataFetch(3_600_000);
    if (count > o.maxFetchesPerHour) {
      o.logger.warn({ count }, 'mcp: client metadata fetch refused: hourly bound reached');
      return undefined;
    }
    let doc: unknown;
    try {
      const { fetch } = requireHere('undici') as typeof import('undici');
      const res = await fetch(clientId, {
        dispatcher: this.#dispatcher(),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
      const length = Number(res.headers.get('content-length') ?? '0');
      if (length > MAX_BYTES) throw new Error(`document larger than ${MAX_BYTES} bytes`);
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of res.body ?? []) {
        size += (chunk as Uint8Array).byteLength;
        if (size > MAX_BYTES) throw new Error(`document larger than ${MAX_BYTES} bytes`);
        chunks.push(chunk as Uint8Array);
      }
      doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      o.logger.info(
        {
          clientId,
          err: (err as Error).message,
          cause: ((err as Error).cause as Error | undefined)?.message,
        },
        'mcp: client metadata document not fetched',
      );
      return undefined;
    }
    const parsed = documentSchema.safeParse(doc);
    if (!parsed.success || parsed.data.client_id !== clientId) {
      o.logger.info({ clientId }, 'mcp: client metadata document invalid (or names another client_id)');
      return undefined;
    }
    const client: OAuthClientInformationFull = {
      ...parsed.data,
      client_id: clientId,
      token_endpoint_auth_method: 'none',
    };
    await o.records.putClient(client, o.cacheTtlMs);
    o.logger.info({ clientId, clientName: client.client_name }, 'mcp: client metadata document accepted');
    return client;
  }

  async close(): Promise<void> {
    await this.#agent?.close();
  }
}
