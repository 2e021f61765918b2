import { randomBytes } from 'node:crypto';
import { TokenCipher } from '@dingtalk-skills/sdk';
import { TokenCipherError } from '@dingtalk-skills/sdk/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const TOKEN = 'c4b3ecd60a1a308abc6b7fc6f0332d84';

describe('TokenCipher', () => {
  it('round-trips and never shows the plaintext', () => {
    const cipher = new TokenCipher(TokenCipher.generateKey());
    const sealed = cipher.encrypt(TOKEN, 'app:union-1');
    expect(sealed).not.toContain(TOKEN);
    expect(sealed.startsWith(`v1.${cipher.keyId}.`)).toBe(true);
    expect(cipher.decrypt(sealed, 'app:union-1')).toBe(TOKEN);
    // Random IV: the same plaintext seals differently each time.
    expect(cipher.encrypt(TOKEN, 'app:union-1')).not.toBe(sealed);
  });

  it('accepts base64, base64url, hex and Buffer keys of 32 bytes; the same key gives the same id', () => {
    const raw = randomBytes(32);
    const ids = [
      new TokenCipher(raw.toString('base64')),
      new TokenCipher(raw.toString('base64url')),
      new TokenCipher(raw.toString('hex')),
      new TokenCipher(raw),
    ].map((c) => c.keyId);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}$/);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['not base64', 'this is not a key!'],
    ['empty', ''],
  ])('rejects a bad key (%s) with ERR_CONFIG and does not echo it', (_name, key) => {
    let caught: unknown;
    try {
      new TokenCipher(key);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'ERR_CONFIG' });
    if (key.length > 0) expect((caught as Error).message).not.toContain(key);
  });

  it('rotates: encrypts with the first key, decrypts with any listed key', () => {
    const oldKey = TokenCipher.generateKey();
    const newKey = TokenCipher.generateKey();
    const before = new TokenCipher({ id: 'k2024', key: oldKey });
    const sealedOld = before.encrypt(TOKEN, 'ctx');
    const after = new TokenCipher([
      { id: 'k2025', key: newKey },
      { id: 'k2024', key: oldKey },
    ]);
    expect(after.keyId).toBe('k2025');
    expect(after.decrypt(sealedOld, 'ctx')).toBe(TOKEN);
    expect(after.encrypt(TOKEN, 'ctx').split('.')[1]).toBe('k2025');
    // Once the old key is dropped, its values no longer open, with a reason that says why.
    const dropped = new TokenCipher({ id: 'k2025', key: newKey });
    expect(() => dropped.decrypt(sealedOld, 'ctx')).toThrow(TokenCipherError);
    try {
      dropped.decrypt(sealedOld, 'ctx');
    } catch (err) {
      expect(err).toMatchObject({ reason: 'unknown-key', keyId: 'k2024', code: 'ERR_CONFIG' });
    }
  });

  it('detects tampering and a value moved to another row (context is bound)', () => {
    const cipher = new TokenCipher(TokenCipher.generateKey());
    const sealed = cipher.encrypt(TOKEN, 'app:union-a');
    expect(() => cipher.decrypt(sealed, 'app:union-b')).toThrow(/authentication failed/);
    const parts = sealed.split('.');
    const data = Buffer.from(parts[4] as string, 'base64url');
    data[0] = (data[0] as number) ^ 1;
    parts[4] = data.toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'app:union-a')).toThrow(TokenCipherError);
    expect(() => cipher.decrypt('not-sealed', 'x')).toThrow(/v1\.<keyId>/);
  });

  it('rejects duplicate key ids and bad ids', () => {
    const k = TokenCipher.generateKey();
    expect(() => new TokenCipher([k, k])).toThrow(/duplicate key id/);
    expect(() => new TokenCipher({ id: 'has space', key: k })).toThrow(/id must match/);
    expect(() => new TokenCipher([])).toThrow(/no key/);
  });

  it('round-trips any text under any context (property)', () => {
    const cipher = new TokenCipher(TokenCipher.generateKey());
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (text, ctx) => {
        expect(cipher.decrypt(cipher.encrypt(text, ctx), ctx)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});
