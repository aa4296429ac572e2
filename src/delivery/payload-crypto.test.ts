import { describe, expect, it } from 'vitest';
import { createKeyRing } from '../core/secrets/key-ring.ts';
import { openPayload, PayloadError, sealPayload } from './payload-crypto.ts';

const OLD = 'o'.repeat(40);
const NEW = 'n'.repeat(40);
const params = { code: '493817', link: 'https://portal.example.test/r/main/recovery/abc', realmName: 'Портал', n: 30 };

describe('outbox payload encryption', () => {
  it('round-trips an object, and the ciphertext holds no plaintext', () => {
    const ring = createKeyRing([NEW]);
    const sealed = sealPayload(ring, params, 'row-1');
    expect(openPayload(ring, sealed, 'row-1')).toEqual(params);
    expect(sealed.includes(Buffer.from('493817'))).toBe(false);
    expect(sealed.includes(Buffer.from('recovery'))).toBe(false);
  });

  it('has the documented layout: version, key id, 12-byte IV, 16-byte tag, ciphertext', () => {
    const ring = createKeyRing([NEW]);
    const sealed = sealPayload(ring, { a: 1 });
    expect(sealed[0]).toBe(1);
    expect(sealed.subarray(1, 9).toString('ascii')).toBe(ring.current.id);
    expect(sealed.length).toBe(1 + 8 + 12 + 16 + Buffer.byteLength('{"a":1}'));
  });

  it('uses a fresh IV every time', () => {
    const ring = createKeyRing([NEW]);
    expect(sealPayload(ring, params).equals(sealPayload(ring, params))).toBe(false);
  });

  it('opens payloads sealed under an older key after rotation', () => {
    const sealedOld = sealPayload(createKeyRing([OLD]), params);
    const rotated = createKeyRing([NEW, OLD]);
    expect(openPayload(rotated, sealedOld)).toEqual(params);
    // New payloads use the new key.
    expect(sealPayload(rotated, params).subarray(1, 9).toString('ascii')).toBe(rotated.current.id);
  });

  it('refuses a payload whose key was dropped from the ring', () => {
    const sealedOld = sealPayload(createKeyRing([OLD]), params);
    expect(() => openPayload(createKeyRing([NEW]), sealedOld)).toThrow(/not in DOSTUP_SECRETS/);
  });

  it('detects tampering with any part', () => {
    const ring = createKeyRing([NEW]);
    const sealed = sealPayload(ring, params, 'ctx');
    // Flip one bit in the IV, the tag and the ciphertext (start and end).
    for (const at of [9, 9 + 11, 21, 21 + 15, 37, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      expect(() => openPayload(ring, bad, 'ctx'), `byte ${at}`).toThrow(PayloadError);
    }
    expect(() => openPayload(ring, sealed.subarray(0, sealed.length - 1), 'ctx')).toThrow(PayloadError);
    expect(() => openPayload(ring, sealed.subarray(0, 20), 'ctx')).toThrow(/too short/);
    const badVersion = Buffer.from(sealed);
    badVersion[0] = 2;
    expect(() => openPayload(ring, badVersion, 'ctx')).toThrow(/version/);
  });

  it('is bound to its context: a payload moved to another message does not open', () => {
    const ring = createKeyRing([NEW]);
    const sealed = sealPayload(ring, params, 'outbox:1:victim@example.test');
    expect(() => openPayload(ring, sealed, 'outbox:2:attacker@example.test')).toThrow(PayloadError);
    expect(() => openPayload(ring, sealed)).toThrow(PayloadError);
  });

  it('keys are purpose-bound: another subkey of the same secret cannot open it', () => {
    const ring = createKeyRing([NEW]);
    const sealed = sealPayload(ring, params);
    const impostor = { ...ring, subkey: (k: (typeof ring.all)[number]) => ring.subkey(k, 'otp-hmac') };
    expect(() => openPayload(impostor, sealed)).toThrow(PayloadError);
  });
});
