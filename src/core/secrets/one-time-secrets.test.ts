import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NewOneTimeSecret, OneTimeSecretRecord, OneTimeSecretsRepo, Random } from '../ports.ts';
import { createKeyRing } from './key-ring.ts';
import {
  CONTROL_ALPHABET,
  canonicalSecret,
  createOneTimeSecrets,
  generateSecret,
  hmacSecret,
  normalizeTypedSecret,
} from './one-time-secrets.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const random: Random = { bytes: (n) => randomBytes(n), uuid: () => randomUUID() };

/**
 * The repository's contract in memory (the store's contract test holds the real one to the same
 * rules). `clockSeconds` stands in for the database clock.
 */
function fakeRepo() {
  const rows = new Map<string, Omit<OneTimeSecretRecord, 'ageSeconds'>>();
  let clockSeconds = 0;
  const now = () => new Date(clockSeconds * 1000);
  const live = (r: Omit<OneTimeSecretRecord, 'ageSeconds'>) => r.usedAt === null && r.invalidatedAt === null;
  const usable = (r: Omit<OneTimeSecretRecord, 'ageSeconds'>) => live(r) && r.expiresAt > now();
  const withAge = (r: Omit<OneTimeSecretRecord, 'ageSeconds'>): OneTimeSecretRecord => ({
    ...r,
    ageSeconds: (now().getTime() - r.createdAt.getTime()) / 1000,
  });
  const repo: OneTimeSecretsRepo = {
    async isUsable(id, realm, purpose) {
      const r = rows.get(id);
      return !!r && r.realm === realm && r.purpose === purpose && usable(r) && r.attempts < r.maxAttempts;
    },
    async issueMany(ss: NewOneTimeSecret[]) {
      return ss.map((s) => {
        for (const r of rows.values())
          if (r.userId === s.userId && r.purpose === s.purpose && live(r)) r.invalidatedAt = now();
        const { ttlSeconds, ...rest } = s;
        const row = {
          ...rest,
          attempts: 0,
          createdAt: now(),
          expiresAt: new Date(now().getTime() + ttlSeconds * 1000),
          usedAt: null,
          invalidatedAt: null,
        };
        rows.set(s.id, row);
        return withAge(row);
      });
    },
    async beginAttempt(by) {
      const r =
        'id' in by
          ? rows.get(by.id)
          : [...rows.values()]
              .filter((x) => x.realm === by.realm && x.userId === by.userId && x.purpose === by.purpose && live(x))
              .at(-1);
      if (!r || !usable(r) || r.attempts >= r.maxAttempts) return null;
      r.attempts += 1;
      return withAge(r);
    },
    async whyUnusable(id, realm) {
      const r = rows.get(id);
      if (!r || r.realm !== realm) return null;
      const reason = r.usedAt
        ? 'used'
        : r.invalidatedAt
          ? 'replaced'
          : r.expiresAt <= now()
            ? 'expired'
            : r.attempts >= r.maxAttempts
              ? 'exhausted'
              : 'live';
      return { reason, userId: r.userId };
    },
    async consume(id) {
      const r = rows.get(id);
      if (!r || !usable(r)) return false;
      r.usedAt = now();
      return true;
    },
    async invalidateAll(userId, purpose) {
      let n = 0;
      for (const r of rows.values())
        if (r.userId === userId && r.purpose === purpose && live(r)) {
          r.invalidatedAt = now();
          n++;
        }
      return n;
    },
    async deleteExpired(before) {
      let n = 0;
      for (const [id, r] of rows) {
        if (r.expiresAt < before) {
          rows.delete(id);
          n++;
        }
      }
      return n;
    },
  };
  return { repo, rows, tick: (s: number) => (clockSeconds += s) };
}

const issueInput = (overrides: Partial<Parameters<ReturnType<typeof createOneTimeSecrets>['issue']>[1]> = {}) => ({
  realm: 'portal',
  userId: randomUUID(),
  purpose: 'recovery',
  flowId: null,
  format: 'digits' as const,
  length: 8,
  ttlSeconds: 600,
  maxAttempts: 5,
  ...overrides,
});

describe('generateSecret', () => {
  it('makes v4 UUIDs, digits and control strings of the asked length and alphabet', () => {
    const u = generateSecret('uuid', 0, random);
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (let i = 0; i < 200; i++) {
      expect(generateSecret('digits', 8, random)).toMatch(/^[0-9]{8}$/);
      expect(generateSecret('control-string', 10, random)).toMatch(new RegExp(`^[${CONTROL_ALPHABET}]{10}$`));
    }
    expect(CONTROL_ALPHABET).toHaveLength(31);
    expect(CONTROL_ALPHABET).not.toMatch(/[01OIL]/);
    expect(() => generateSecret('digits', 0, random)).toThrow(RangeError);
    expect(() => generateSecret('digits', 6.5, random)).toThrow(RangeError);
  });

  it('rejects biased bytes instead of folding them (no modulo bias)', () => {
    // 250..255 would make 0..5 likelier with `b % 10`; the generator must skip them.
    const fed = [255, 250, 7, 252, 3, 249];
    let pos = 0;
    const scripted = { bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => fed[pos++ % fed.length]!)) };
    expect(generateSecret('digits', 3, scripted)).toBe('739');
    // 248..255 are refused for the 31-symbol alphabet: 247 % 31 = 30 → the last symbol.
    const fed2 = [248, 255, 247];
    pos = 0;
    const scripted2 = {
      bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => fed2[pos++ % fed2.length]!)),
    };
    expect(generateSecret('control-string', 1, scripted2)).toBe(CONTROL_ALPHABET[30]);
  });

  it('digits are uniform (chi-square over 800 000 digits)', () => {
    const counts = new Array(10).fill(0) as number[];
    for (let i = 0; i < 100_000; i++) for (const d of generateSecret('digits', 8, random)) counts[Number(d)]! += 1;
    const expected = 800_000 / 10;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: a fair generator exceeds 60 with p ≈ 1e-9 (never flaky in practice);
    // a plain `byte % 10` (0–5 likelier by 26/25) lands near 300.
    expect(chi2).toBeLessThan(60);
  });

  it('control strings are uniform over the 31 symbols', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++)
      for (const ch of generateSecret('control-string', 10, random)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(31);
    const expected = 200_000 / 31;
    const chi2 = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 30 degrees of freedom: a fair generator exceeds 102 with p ≈ 1e-9; `byte % 31` lands near 560.
    expect(chi2).toBeLessThan(102);
  });
});

describe('normalizeTypedSecret', () => {
  it('drops spaces and dashes around digits, folds full-width digits', () => {
    expect(normalizeTypedSecret('digits', ' 12 34-56 ')).toBe('123456');
    expect(normalizeTypedSecret('digits', '１２３４\u2013５６')).toBe('123456');
    expect(normalizeTypedSecret('digits', '12a456')).toBeNull();
  });
  it('upper-cases control strings and refuses symbols outside the alphabet', () => {
    expect(normalizeTypedSecret('control-string', ' abc-def 234 ')).toBe('ABCDEF234');
    expect(normalizeTypedSecret('control-string', 'AB0CD')).toBeNull(); // 0 is not in the alphabet
    expect(normalizeTypedSecret('control-string', 'ЛЖ')).toBeNull(); // Cyrillic look-alikes are not Latin
  });
  it('lower-cases UUIDs, with or without dashes', () => {
    const u = '0F8FAD5B-D9CB-469F-A165-70867728950E';
    expect(normalizeTypedSecret('uuid', ` ${u} `)).toBe(u.toLowerCase());
    expect(normalizeTypedSecret('uuid', u.replaceAll('-', ''))).toBe(u.toLowerCase());
    expect(normalizeTypedSecret('uuid', 'not-a-uuid')).toBeNull();
  });
  it('returns null for junk instead of throwing', () => {
    for (const f of ['uuid', 'digits', 'control-string'] as const) {
      expect(normalizeTypedSecret(f, '')).toBeNull();
      expect(normalizeTypedSecret(f, '   ')).toBeNull();
      expect(normalizeTypedSecret(f, '1'.repeat(10_000))).toBeNull();
      expect(normalizeTypedSecret(f, undefined)).toBeNull();
      expect(normalizeTypedSecret(f, '<script>')).toBeNull();
    }
  });
  it('every accepted spelling has the canonical form of the generated secret', () => {
    for (const f of ['uuid', 'digits', 'control-string'] as const) {
      const s = generateSecret(f, 8, random);
      const typed = ` ${s.toLowerCase().replace(/(.{4})/g, '$1 ')} `;
      const normal = normalizeTypedSecret(f, typed);
      expect(normal).toBe(s);
      expect(canonicalSecret(typed)).toBe(canonicalSecret(s));
    }
  });
});

describe('hmacSecret', () => {
  it('differs per purpose and per key, and is the same for every spelling of the secret', () => {
    const ring = createKeyRing([A, B]);
    const [ka, kb] = ring.all as [typeof ring.current, typeof ring.current];
    const h = hmacSecret(ring, ka, 'recovery', '123456');
    expect(h).toHaveLength(32);
    expect(h.equals(hmacSecret(ring, ka, 'recovery', ' 123-456 '))).toBe(true);
    expect(h.equals(hmacSecret(ring, ka, 'verify-email', '123456'))).toBe(false);
    expect(h.equals(hmacSecret(ring, kb, 'recovery', '123456'))).toBe(false);
    expect(h.equals(hmacSecret(ring, ka, 'recovery', '123457'))).toBe(false);
  });
  it('refuses junk without echoing it', () => {
    const ring = createKeyRing([A]);
    expect(() => hmacSecret(ring, ring.current, 'recovery', 'pa$$word')).toThrow(/not a well-formed secret$/);
  });
});

describe('createOneTimeSecrets', () => {
  it('issues a secret that verifies once, by id and by user, and stores only an HMAC', async () => {
    const { repo, rows } = fakeRepo();
    const secrets = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    const input = issueInput();
    const issued = await secrets.issue(repo, input);
    expect(issued.secret).toMatch(/^[0-9]{8}$/);
    const stored = rows.get(issued.id);
    expect(stored?.hmac.toString('hex')).not.toContain(Buffer.from(issued.secret).toString('hex'));
    expect(JSON.stringify(stored)).not.toContain(issued.secret);

    const byUser = await secrets.verify(repo, {
      by: { realm: 'portal', userId: input.userId, purpose: 'recovery' },
      purpose: 'recovery',
      secret: issued.secret,
    });
    expect(byUser.ok).toBe(true);
    const byId = await secrets.verify(repo, { by: { id: issued.id }, purpose: 'recovery', secret: issued.secret });
    expect(byId).toMatchObject({ ok: true, record: { id: issued.id, attempts: 2 } });
    expect(byId.ok && 'hmac' in byId.record).toBe(false);
    expect(await secrets.consume(repo, issued.id)).toBe(true);
    expect(await secrets.consume(repo, issued.id)).toBe(false);
    expect(await secrets.verify(repo, { by: { id: issued.id }, purpose: 'recovery', secret: issued.secret })).toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('counts every guess, reports the last failed one as exhausted, then refuses even the right one', async () => {
    const { repo } = fakeRepo();
    const secrets = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    const issued = await secrets.issue(repo, issueInput({ maxAttempts: 3 }));
    const wrong = issued.secret === '00000000' ? '11111111' : '00000000';
    const guess = (secret: string) => secrets.verify(repo, { by: { id: issued.id }, purpose: 'recovery', secret });
    expect(await guess(wrong)).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(await guess('junk!')).toMatchObject({ ok: false, reason: 'mismatch' }); // junk costs an attempt too
    const last = await guess(wrong);
    // The failure carries the row (so a link-only caller can end its flow) but never the HMAC.
    expect(last).toMatchObject({
      ok: false,
      reason: 'exhausted',
      record: { id: issued.id, attempts: 3, maxAttempts: 3 },
    });
    expect(JSON.stringify(last)).not.toMatch(/hmac/i);
    expect(await guess(issued.secret)).toEqual({ ok: false, reason: 'not_found' });
  });

  it('a secret of another purpose never verifies', async () => {
    const { repo } = fakeRepo();
    const secrets = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    const issued = await secrets.issue(repo, issueInput({ purpose: 'verify-email' }));
    expect(
      await secrets.verify(repo, { by: { id: issued.id }, purpose: 'recovery', secret: issued.secret }),
    ).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('too_old is decided by the row age before the comparison — the same answer right or wrong', async () => {
    const { repo, tick } = fakeRepo();
    const secrets = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    const issued = await secrets.issue(repo, issueInput({ ttlSeconds: 1800 }));
    tick(700);
    const verify = (secret: string, maxAgeSeconds?: number) =>
      secrets.verify(repo, {
        by: { id: issued.id },
        purpose: 'recovery',
        secret,
        ...(maxAgeSeconds ? { maxAgeSeconds } : {}),
      });
    expect(await verify(issued.secret, 600)).toMatchObject({ ok: false, reason: 'too_old' });
    expect(await verify('99999999x', 600)).toMatchObject({ ok: false, reason: 'too_old' });
    expect((await verify(issued.secret)).ok).toBe(true); // the link's longer life still holds
  });

  it('survives key rotation while the old key is in the ring, and dies when it leaves', async () => {
    const { repo } = fakeRepo();
    const underA = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    const one = await underA.issue(repo, issueInput());
    const two = await underA.issue(repo, issueInput());
    const rotated = createOneTimeSecrets({ ring: createKeyRing([B, A]), random });
    expect((await rotated.verify(repo, { by: { id: one.id }, purpose: 'recovery', secret: one.secret })).ok).toBe(true);
    const onlyB = createOneTimeSecrets({ ring: createKeyRing([B]), random });
    expect(await onlyB.verify(repo, { by: { id: two.id }, purpose: 'recovery', secret: two.secret })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    // New secrets are made under the new current key.
    const three = await rotated.issue(repo, issueInput());
    expect((await onlyB.verify(repo, { by: { id: three.id }, purpose: 'recovery', secret: three.secret })).ok).toBe(
      true,
    );
  });

  it('accepts what a person types for each format', async () => {
    const { repo } = fakeRepo();
    const secrets = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    for (const format of ['uuid', 'digits', 'control-string'] as const) {
      const issued = await secrets.issue(repo, issueInput({ format }));
      const typed = ` ${issued.secret
        .toLowerCase()
        .replaceAll('-', '')
        .replace(/(.{4})/g, '$1-')} `;
      expect((await secrets.verify(repo, { by: { id: issued.id }, purpose: 'recovery', secret: typed })).ok).toBe(true);
    }
  });

  it('refuses nonsense lifetimes and attempt limits before storing anything', async () => {
    const { repo, rows } = fakeRepo();
    const secrets = createOneTimeSecrets({ ring: createKeyRing([A]), random });
    await expect(secrets.issue(repo, issueInput({ ttlSeconds: 0 }))).rejects.toThrow(RangeError);
    await expect(secrets.issue(repo, issueInput({ maxAttempts: 0 }))).rejects.toThrow(RangeError);
    expect(rows.size).toBe(0);
  });
});
