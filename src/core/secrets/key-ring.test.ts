import { describe, expect, it } from 'vitest';
import { createKeyRing } from './key-ring.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('key ring', () => {
  it('uses the first secret for new material and keeps the others', () => {
    const ring = createKeyRing([A, B]);
    expect(ring.current.secret.toString()).toBe(A);
    expect(ring.all).toHaveLength(2);
    expect(ring.byId(ring.all[1]!.id)?.secret.toString()).toBe(B);
  });
  it('gives each purpose its own subkey, stable per key', () => {
    const ring = createKeyRing([A]);
    const k = ring.current;
    expect(ring.subkey(k, 'x').equals(ring.subkey(k, 'y'))).toBe(false);
    expect(ring.subkey(k, 'x').equals(createKeyRing([A]).subkey(k, 'x'))).toBe(true);
    expect(ring.subkey(k, 'x')).toHaveLength(32);
  });
  it('refuses short or missing secrets', () => {
    expect(() => createKeyRing([])).toThrow();
    expect(() => createKeyRing(['short'])).toThrow(/at least 32/);
  });
});
