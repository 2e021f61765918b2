import type { Logger } from '@dingtalk-skills/sdk';
import { MAX_FRAME_BYTES } from '@dingtalk-skills/sdk/protocol';
import { z } from 'zod';
import { SandboxClock } from './clock.js';
import { SEED_APP } from './seed.js';

/** An app registered in the sandbox (an AppKey/AppSecret pair, as in the developer console). */
export const sandboxAppSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Display name (defaults to the clientId). */
  name: z.string().min(1).optional(),
  /** Redirect URIs registered for OAuth (登录与分享). */
  redirectUris: z.array(z.string()).readonly().default([]),
});
export type SandboxApp = z.output<typeof sandboxAppSchema>;
export type SandboxAppInput = z.input<typeof sandboxAppSchema>;

const ms = z.number().int().min(0);

/**
 * Default CALLBACK redelivery: once 20 s after the attempt went unanswered, once more 60 s after that
 * (sandbox clock). DingTalk's official Node SDK documents that a push left unanswered is sent again
 * within about 60 s, and users report 16-60 s (stream-protocol.md §3): the first step lies in that
 * window, the second shows that it can happen more than once. `[]` turns redelivery off.
 */
export const DEFAULT_CALLBACK_REDELIVERY: readonly number[] = [20_000, 60_000];
const positiveMs = z.number().int().min(1);

const loggerSchema = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['trace', 'debug', 'info', 'warn', 'error', 'child'].every(
      (m) => typeof (v as Record<string, unknown>)[m] === 'function',
    ),
  { message: 'expected a Logger (trace/debug/info/warn/error/child)' },
);

/**
 * Options of {@link createSandbox}. Every duration is in milliseconds. Validated with zod; an invalid
 * value throws `ERR_CONFIG` naming the field.
 */
export const sandboxOptionsSchema = z
  .object({
    /** TCP port; 0 lets the OS choose (the library default; the CLI passes 8720). */
    port: z.number().int().min(0).max(65_535).default(0),
    /** Interface to listen on; loopback unless told otherwise. */
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * `Host` names served besides 127.0.0.1, localhost, [::1] and `host` (every address of this machine
     * when `host` is 0.0.0.0 / ::): `name` (on the sandbox's port) or `name:port` (exactly, e.g. behind
     * a port mapping). Any other `Host` gets 403 `forbiddenHost` (DNS rebinding protection).
     */
    allowedHosts: z.array(z.string().min(1).max(255)).max(100).default([]),
    /**
     * Apps registered at start (default: the seed app `dingsandboxapp001` / `sandbox-secret`, which
     * the platform always has; an entry with its clientId adds redirect URIs and, with a name, renames it).
     */
    apps: z
      .array(sandboxAppSchema)
      .min(1)
      .default(() => [{ ...SEED_APP, redirectUris: [...SEED_APP.redirectUris] }])
      .refine((apps) => new Set(apps.map((a) => a.clientId)).size === apps.length, {
        message: 'clientIds must be unique',
      }),
    /** How long a connections/open ticket stays valid (single use). */
    ticketTtlMs: positiveMs.default(90_000),
    /** SYSTEM `ping` cadence per connection; 0 = never ping. */
    pingIntervalMs: ms.default(30_000),
    /**
     * Close a connection (WebSocket code 1001) after this many SYSTEM pings in a row went unanswered;
     * 0 = never (the default: the real server's policy is undocumented).
     */
    maxMissedPings: z.number().int().min(0).max(1_000).default(0),
    /** After this long a connection gets SYSTEM `disconnect` ("persistent connection is timeout"); 0 = never. */
    connectionLifetimeMs: ms.default(2 * 60 * 60 * 1000),
    /** Time between SYSTEM `disconnect` and the gateway closing the socket. */
    disconnectGraceMs: ms.default(10_000),
    /**
     * Delays before each redelivery of an EVENT that was not acked in time or was acked LATER,
     * counted from the moment the attempt failed. After the last one the gateway gives up.
     */
    eventRedelivery: z.array(ms).max(100).default([10_000, 30_000, 60_000, 120_000]),
    /** How long the gateway waits for an ack (EVENT, ping) before it counts as missing. */
    ackTimeoutMs: positiveMs.default(10_000),
    /** How long the platform awaits the answer (ack) to a CALLBACK. */
    callbackTimeoutMs: positiveMs.default(10_000),
    /**
     * Delays (sandbox clock) before each redelivery of a CALLBACK left unanswered (no ack in time, the
     * connection lost, nobody subscribed), counted from the failed attempt. Default
     * {@link DEFAULT_CALLBACK_REDELIVERY} (`[20_000, 60_000]`); `[]` turns it off.
     */
    callbackRedelivery: z
      .array(ms)
      .max(100)
      .default(() => [...DEFAULT_CALLBACK_REDELIVERY]),
    /** Largest downstream frame, in bytes of UTF-8 (the Java SDK's cap is 256 KiB). */
    maxFrameBytes: positiveMs.default(MAX_FRAME_BYTES),
    /** Largest upstream message accepted (an ack with a big callback response). */
    maxUpstreamBytes: positiveMs.default(4 * MAX_FRAME_BYTES),
    /** How many entries the delivery log keeps (oldest dropped first). */
    deliveryLogSize: positiveMs.default(2_000),
    /** SQLite file for the platform's data (apps, users, grants, tokens, to-dos); default: in memory. */
    dbPath: z.string().min(1).optional(),
    /** Keep the platform's data in memory only (the default without `dbPath`; excludes `dbPath`). */
    ephemeral: z.boolean().optional(),
    /** OpenAPI calls per app per API per second before `QpsLimitForAppkeyAndApi`; 0 = off. */
    qpsLimit: z.number().int().min(0).default(0),
    /**
     * EVENTs pushed while the app has no live connection are held (the platform keeps unacked
     * events) and delivered when one connects: at most this many per app (more: 429
     * `heldEventsFull`); 0 = refuse at once with 409 `noSubscriber` (the sandbox's old behaviour).
     */
    heldEventLimit: z.number().int().min(0).max(100_000).default(1_000),
    /**
     * How long (sandbox clock) a held EVENT waits for a connection before it is dropped (`expired`).
     * DingTalk does not publish its retention; 24 h is the sandbox's choice.
     */
    heldEventRetentionMs: positiveMs.default(24 * 60 * 60 * 1000),
    /**
     * Serve https and `wss://` with this certificate chain and key (PEM). `createSelfSignedTls()`
     * makes a throwaway CA and server certificate; the CLI's `--tls` uses it.
     */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Where the sandbox logs (default: a redacting pino logger on stdout, level info). */
    logger: loggerSchema.optional(),
    /** The sandbox's clock; tests pass one to advance time (ticket expiry, token expiry). */
    clock: z.instanceof(SandboxClock).optional(),
  })
  .strict()
  .refine((o) => !(o.ephemeral === true && o.dbPath !== undefined), {
    message: 'ephemeral and dbPath exclude each other',
    path: ['ephemeral'],
  });

/** Options as the caller writes them (everything optional). */
export type SandboxOptionsInput = z.input<typeof sandboxOptionsSchema>;
/** Options after validation, defaults filled in. */
export type SandboxOptions = z.output<typeof sandboxOptionsSchema>;
