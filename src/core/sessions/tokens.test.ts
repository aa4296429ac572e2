import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSessionToken, isWellFormedToken, newSessionToken } from './tokens.ts';

const random = { bytes: (n: number) => randomBytes(n), uuid: () => randomUUID() };

describe('session tokens', () => {
  it('carry 256 bits and are well formed', () => {
    const t = newSessionToken(random);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(isWellFormedToken(t)).toBe(true);
  });
  it('are unique', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newSessionToken(random)));
    expect(seen.size).toBe(1000);
  });
  it('hash to a stable SHA-256 that differs from the token', () => {
    const t = newSessionToken(random);
    const h = hashSessionToken(t);
    expect(h).toHaveLength(32);
    expect(h.equals(hashSessionToken(t))).toBe(true);
    expect(h.toString('base64url')).not.toBe(t);
    expect(hashSessionToken(`${t.slice(0, -1)}A`).equals(h)).toBe(t.endsWith('A'));
  });
  it('rejects junk before lookup', () => {
    for (const bad of ['', 'x', `${'a'.repeat(42)}=`, 'a'.repeat(44), `${'a'.repeat(42)}\n`, '../etc/passwd']) {
      expect(isWellFormedToken(bad)).toBe(false);
    }
  });
});
