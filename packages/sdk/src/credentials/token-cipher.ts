import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DingTalkSkillsError, ErrorCode } from '../errors/coded-error.js';

/** A 32-byte key: base64 (or base64url) or 64 hex characters, a Buffer, or either with an explicit id. */
export type TokenKeyInput = string | Uint8Array | { id: string; key: string | Uint8Array };

/** Why a sealed value could not be opened. */
export type TokenCipherFailure = 'malformed' | 'unknown-key' | 'tampered';

/** A sealed token could not be opened: wrong or rotated-out key, damaged or moved ciphertext. Code ERR_CONFIG. */
export class TokenCipherError extends DingTalkSkillsError {
  readonly reason: TokenCipherFailure;
  readonly keyId: string | undefined;
  constructor(reason: TokenCipherFailure, message: string, keyId?: string, options?: { cause?: unknown }) {
    super(ErrorCode.Config, message, options);
    this.reason = reason;
    this.keyId = keyId;
  }
}

const FORMAT = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function parseKey(key: string | Uint8Array, index: number): Buffer {
  let bytes: Buffer | undefined;
  if (typeof key !== 'string') bytes = Buffer.from(key);
  else if (/^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(key)) bytes = Buffer.from(key, 'base64');
  if (bytes?.length !== 32)
    throw new DingTalkSkillsError(
      ErrorCode.Config,
      `token key #${index + 1}: expected 32 bytes as base64, 64 hex characters or a Buffer` +
        (bytes ? `, got ${bytes.length} bytes` : ''),
    );
  return bytes;
}

/** A key id derived from the key (8 hex chars of a hash): names the key without revealing it. */
function deriveKeyId(key: Buffer): string {
  return createHash('sha256').update('dingtalk-skills/token-key-id/').update(key).digest('hex').slice(0, 8);
}

/**
 * Encrypts stored tokens with AES-256-GCM. The first key encrypts; every listed key decrypts, so a
 * key can be rotated: put the new key first, keep the old one listed until its tokens are rewritten.
 * Sealed form: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). The store key is bound as
 * additional data, so a sealed value copied to another user's row does not open.
 */
export class TokenCipher {
  readonly #keys = new Map<string, Buffer>();
  readonly #currentId: string;

  constructor(keys: TokenKeyInput | readonly TokenKeyInput[]) {
    const list: readonly TokenKeyInput[] = Array.isArray(keys) ? keys : [keys as TokenKeyInput];
    if (list.length === 0) throw new DingTalkSkillsError(ErrorCode.Config, 'TokenCipher: no key given');
    list.forEach((input, i) => {
      const explicit = typeof input === 'object' && !(input instanceof Uint8Array);
      const bytes = parseKey(explicit ? input.key : input, i);
      const id = explicit ? input.id : deriveKeyId(bytes);
      if (!KEY_ID.test(id))
        throw new DingTalkSkillsError(ErrorCode.Config, `token key #${i + 1}: id must match ${KEY_ID}`);
      if (this.#keys.has(id))
        throw new DingTalkSkillsError(ErrorCode.Config, `token key #${i + 1}: duplicate key id "${id}"`);
      this.#keys.set(id, bytes);
    });
    this.#currentId = [...this.#keys.keys()][0] as string;
  }

  /** A new random key, base64, for `DINGTALK_TOKEN_KEY`. */
  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  /** The id of the key that encrypts. */
  get keyId(): string {
    return this.#currentId;
  }

  /** Ids of every key that can decrypt. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Encrypts `plaintext` with the current key, bound to `context` (e.g. the store key). */
  encrypt(plaintext: string, context: string): string {
    const key = this.#keys.get(this.#currentId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      FORMAT,
      this.#currentId,
      iv.toString('base64url'),
      tag.toString('base64url'),
      ct.toString('base64url'),
    ].join('.');
  }

  /** Opens a value sealed by {@link encrypt} under any listed key; throws TokenCipherError otherwise. */
  decrypt(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT)
      throw new TokenCipherError('malformed', 'sealed token: not in the v1.<keyId>.<iv>.<tag>.<data> form');
    const [, keyId, ivText, tagText, ctText] = parts as [string, string, string, string, string];
    const key = this.#keys.get(keyId);
    if (!key)
      throw new TokenCipherError(
        'unknown-key',
        `sealed token: key "${keyId}" is not among the configured keys [${this.keyIds.join(', ')}]`,
        keyId,
      );
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
      throw new TokenCipherError('malformed', 'sealed token: bad iv or tag length', keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch (cause) {
      throw new TokenCipherError(
        'tampered',
        'sealed token: authentication failed (wrong key, changed data, or another row)',
        keyId,
        { cause },
      );
    }
  }
}
