import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';

/** 32 lowercase hex characters: the shape of every DingTalk token and auth code. */
export function newOpaqueToken(): string {
  return randomBytes(16).toString('hex');
}

/** sha256 hex of a secret value: tokens and codes are stored hashed, never in clear. */
export function hashSecret(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A DingTalk-style request id: an upper-case UUID (`30EE8654-1AA2-7D88-8248-9518547248AA`). */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

/** A trace id for `x-acs-trace-id`: 32 lowercase hex. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** A short random id with a prefix, for to-dos, events and the like. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(8).toString('hex')}`;
}

/**
 * A numeric record id as a decimal string (DingTalk's int64 ids, e.g. a personal status's `id`):
 * 15 digits, a safe integer in JSON.
 */
export function newNumericId(): string {
  return String(randomInt(100_000, 1_000_000)) + String(randomInt(0, 1_000_000_000)).padStart(9, '0');
}

/**
 * The user's openId as one app sees it. DingTalk gives every app a different openId for the same
 * user; the sandbox derives it deterministically from (clientId, userId).
 */
export function openIdFor(clientId: string, userId: string): string {
  return `o${hashSecret(`${clientId}\u0000${userId}`).slice(0, 24)}`;
}
