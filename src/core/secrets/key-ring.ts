// The server's secret keys. Several may be configured (DOSTUP_SECRETS=new,old): the first makes new
// HMACs and ciphertexts, all of them still verify/decrypt, so a key can be rotated without killing
// the codes and queued mails made under the old one. Each use gets its own subkey (HKDF with a
// purpose label), so an HMAC made for one purpose is worthless for another.
import { createHash, hkdfSync } from 'node:crypto';

export interface RingKey {
  /** Short public id of the key (first 8 hex of its SHA-256), stored beside what it made. */
  id: string;
  secret: Buffer;
}

export interface KeyRing {
  current: RingKey;
  all: readonly RingKey[];
  /** A 32-byte subkey of `key` for `purpose` (HKDF-SHA256). */
  subkey(key: RingKey, purpose: string): Buffer;
  byId(id: string): RingKey | undefined;
}

export const MIN_SECRET_LENGTH = 32;

export function createKeyRing(secrets: readonly string[]): KeyRing {
  if (secrets.length === 0) throw new Error('key ring: at least one secret is needed');
  const all = secrets.map((s) => {
    if (s.length < MIN_SECRET_LENGTH)
      throw new Error(`key ring: every secret must be at least ${MIN_SECRET_LENGTH} characters`);
    const secret = Buffer.from(s, 'utf8');
    return { id: createHash('sha256').update(secret).digest('hex').slice(0, 8), secret };
  });
  const cache = new Map<string, Buffer>();
  return {
    current: all[0]!,
    all,
    subkey(key, purpose) {
      const k = `${key.id}:${purpose}`;
      let sub = cache.get(k);
      if (!sub) {
        sub = Buffer.from(hkdfSync('sha256', key.secret, Buffer.alloc(0), `dostup:${purpose}`, 32));
        cache.set(k, sub);
      }
      return sub;
    },
    byId: (id) => all.find((k) => k.id === id),
  };
}
