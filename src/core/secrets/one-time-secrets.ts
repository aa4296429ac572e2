// The one module every method uses for one-time secrets (recovery codes and links, later SMS codes).
// Modelled on Kratos' useOneTimeCode:
// - secrets come from the CSPRNG, uniformly (rejection sampling — `byte % 10` would make some digits
//   likelier and the code cheaper to guess);
// - only an HMAC is stored, under a per-purpose subkey of the current server key, so a stolen table
//   is worthless without the key and a code made for one purpose never passes for another;
// - the attempt counter is raised BEFORE the comparison, atomically in the database, so parallel
//   guesses each pay;
// - the comparison is constant-time, against the key that made the row (keys rotate);
// - use is a single conditional UPDATE the caller runs in the transaction that acts on it.
// The plaintext leaves this module once, from `issue`, to be mailed; it is never stored, logged or
// put into an error, and neither is the HMAC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OneTimeSecretRecord, OneTimeSecretsRepo, Random } from '../ports.ts';
import type { KeyRing, RingKey } from './key-ring.ts';

/** `uuid` (S1.2's link), `digits`, or `control-string` (S4.1's "control string"). */
export type SecretFormat = 'uuid' | 'digits' | 'control-string';

/**
 * Latin capitals and digits without 0/O, 1/I/L: nothing a person can misread off a printed mail.
 * 31 symbols — about 4.95 bits each.
 */
export const CONTROL_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** Longest digits / control string we make or accept. */
export const MAX_SECRET_LENGTH = 64;
/** Typed input longer than this is junk; refused before any Unicode work on it. */
const MAX_TYPED_LENGTH = 256;

/** Whitespace, ASCII and Unicode dashes and the minus sign: what people put between groups. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212]/g;
const DIGITS_RE = /^[0-9]+$/;
const CONTROL_RE = new RegExp(`^[${CONTROL_ALPHABET}]+$`);
const UUID_DASHED_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32_RE = /^[0-9a-f]{32}$/;
const CANONICAL_RE = /^[0-9A-Z]+$/;

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_SECRET_LENGTH) {
    throw new RangeError(`one-time secret: length must be an integer from 1 to ${MAX_SECRET_LENGTH}`);
  }
}

/**
 * `length` symbols drawn uniformly from `alphabet`. A byte is kept only below the largest multiple
 * of the alphabet size that fits in 256 and rejected otherwise, so every symbol is equally likely.
 */
function uniformString(alphabet: string, length: number, random: Pick<Random, 'bytes'>): string {
  const n = alphabet.length;
  const limit = 256 - (256 % n);
  let out = '';
  while (out.length < length) {
    // A few spare bytes: at most ~3% are rejected (31 symbols: 8/256; 10 symbols: 6/256).
    for (const b of random.bytes(length - out.length + 4)) {
      if (b >= limit) continue;
      out += alphabet[b % n];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A random (version 4) UUID from the CSPRNG bytes, lower-case with dashes. */
function uuidFromBytes(random: Pick<Random, 'bytes'>): string {
  const b = Buffer.from(random.bytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A new secret in its normal form. `length` is ignored for `uuid` (122 random bits). */
export function generateSecret(format: SecretFormat, length: number, random: Pick<Random, 'bytes'>): string {
  if (format === 'uuid') return uuidFromBytes(random);
  checkLength(length);
  return uniformString(format === 'digits' ? '0123456789' : CONTROL_ALPHABET, length, random);
}

/**
 * What a person typed, in the format's normal form — or null for junk (never throws: this runs on
 * raw form input). Unicode is NFKC-folded first so full-width digits and letters count; spaces and
 * dashes between groups are dropped for digits and control strings; a control string is upper-cased,
 * a UUID lower-cased (with or without its dashes).
 */
export function normalizeTypedSecret(format: SecretFormat, input: unknown): string | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_TYPED_LENGTH) return null;
  const s = input.normalize('NFKC').trim();
  if (format === 'uuid') {
    const u = s.replace(/\s/g, '').toLowerCase();
    if (UUID_DASHED_RE.test(u)) return u;
    if (!HEX32_RE.test(u)) return null;
    return `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
  }
  const compact = s.replace(SEPARATORS, '');
  if (compact.length === 0 || compact.length > MAX_SECRET_LENGTH) return null;
  if (format === 'digits') return DIGITS_RE.test(compact) ? compact : null;
  const upper = compact.toUpperCase();
  return CONTROL_RE.test(upper) ? upper : null;
}

/**
 * The form that is HMACed: NFKC, separators dropped, upper-case, only [0-9A-Z]. It does not depend
 * on the format, so verifying needs no format (and a realm switching formats does not kill the codes
 * already mailed), while every spelling `normalizeTypedSecret` accepts maps to the same bytes as the
 * generated secret. null for anything else.
 */
export function canonicalSecret(secret: unknown): string | null {
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_TYPED_LENGTH) return null;
  const c = secret.normalize('NFKC').replace(SEPARATORS, '').toUpperCase();
  return c.length > 0 && c.length <= MAX_SECRET_LENGTH && CANONICAL_RE.test(c) ? c : null;
}

/** HMAC-SHA256 of the canonical secret under `key`'s subkey for `one-time:<purpose>`. */
export function hmacSecret(ring: KeyRing, key: RingKey, purpose: string, secret: string): Buffer {
  const canonical = canonicalSecret(secret);
  // The message names neither the secret nor its shape: errors end up in logs.
  if (canonical === null) throw new TypeError('one-time secret: not a well-formed secret');
  return createHmac('sha256', ring.subkey(key, `one-time:${purpose}`))
    .update(canonical, 'utf8')
    .digest();
}

export interface IssueSecretInput {
  realm: string;
  userId: string;
  purpose: string;
  flowId: string | null;
  format: SecretFormat;
  /** Symbols for `digits` / `control-string`; ignored for `uuid`. */
  length: number;
  /** Lifetime by the database clock. */
  ttlSeconds: number;
  /** Guesses allowed, the right one included. */
  maxAttempts: number;
}

export interface IssuedSecret {
  id: string;
  /** The plaintext, to be put in the mail (through the encrypted outbox) and then forgotten. */
  secret: string;
  expiresAt: Date;
}

/** The row as verified, without its HMAC (nothing downstream needs it, so nothing can leak it). */
export type VerifiedSecret = Omit<OneTimeSecretRecord, 'hmac'>;

export type VerifyFailure = 'not_found' | 'mismatch' | 'exhausted' | 'too_old';

/**
 * A failure on a row that exists (`mismatch`, `exhausted`, `too_old`) carries the row — without its
 * HMAC — so a caller holding only a link can still find and end the flow that issued it. The record
 * is for the server's decisions, not for the response.
 */
export type VerifyResult =
  | { ok: true; record: VerifiedSecret }
  | { ok: false; reason: 'not_found'; record?: undefined }
  | { ok: false; reason: Exclude<VerifyFailure, 'not_found'>; record: VerifiedSecret };

export interface VerifySecretInput {
  /** The row by id (e.g. from a link or the flow), or the user's newest live one for a purpose. */
  by: { id: string } | { realm: string; userId: string; purpose: string };
  /** The purpose the caller wants: the HMAC subkey depends on it, so another purpose's secret never matches. */
  purpose: string;
  /** As typed or taken from the link; normalized here. */
  secret: string;
  /** Shorter life for this path (a typed code vs the link carrying it), by the database clock. */
  maxAgeSeconds?: number;
}

export interface OneTimeSecrets {
  issue(repo: OneTimeSecretsRepo, input: IssueSecretInput): Promise<IssuedSecret>;
  /** issue() for several, in one round of statements; as if issued one after the other in this order. */
  issueMany(repo: OneTimeSecretsRepo, inputs: IssueSecretInput[]): Promise<IssuedSecret[]>;
  /**
   * One guess. Counted before anything is compared; `exhausted` when this was the last guess
   * allowed and it failed (callers end the flow). Does not use the secret up — `consume` does, in
   * the transaction that acts on it. A secret that is unknown, used, replaced, expired or already
   * exhausted is `not_found`; `too_old` is decided before the comparison, so it says nothing
   * about whether the guess was right.
   */
  verify(repo: OneTimeSecretsRepo, input: VerifySecretInput): Promise<VerifyResult>;
  /** Atomic single use; true for exactly one caller. */
  consume(repo: OneTimeSecretsRepo, id: string): Promise<boolean>;
}

/**
 * The repository is passed per call, so the same instance works on the root store and inside a
 * transaction (`store.transaction((tx) => secrets.consume(tx.oneTimeSecrets, id))`).
 */
export function createOneTimeSecrets(deps: { ring: KeyRing; random: Random }): OneTimeSecrets {
  const { ring, random } = deps;
  const issueMany: OneTimeSecrets['issueMany'] = async (repo, inputs) => {
    const made = inputs.map((input) => {
      if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds < 1) {
        throw new RangeError('one-time secret: ttlSeconds must be a positive integer');
      }
      if (!Number.isInteger(input.maxAttempts) || input.maxAttempts < 1) {
        throw new RangeError('one-time secret: maxAttempts must be a positive integer');
      }
      const secret = generateSecret(input.format, input.length, random);
      const key = ring.current;
      const row = {
        id: random.uuid(),
        realm: input.realm,
        userId: input.userId,
        purpose: input.purpose,
        flowId: input.flowId,
        hmac: hmacSecret(ring, key, input.purpose, secret),
        keyId: key.id,
        maxAttempts: input.maxAttempts,
        ttlSeconds: input.ttlSeconds,
      };
      return { row, secret };
    });
    const records = await repo.issueMany(made.map((m) => m.row));
    return records.map((record, i) => ({ id: record.id, secret: made[i]!.secret, expiresAt: record.expiresAt }));
  };

  return {
    async issue(repo, input) {
      const [issued] = await issueMany(repo, [input]);
      if (!issued) throw new Error('one-time secret: nothing issued');
      return issued;
    },

    issueMany,

    async verify(repo, input) {
      // First the attempt, whatever the input looks like: every submission costs one, and nothing
      // about the secret is looked at before it is paid for.
      const row = await repo.beginAttempt(input.by);
      if (!row) return { ok: false, reason: 'not_found' };
      const { hmac, ...record } = row;
      // Decided from the row alone, before the comparison: "too old" must not tell a guesser that
      // the code was right (the link carrying the same code may still be valid).
      if (input.maxAgeSeconds !== undefined && row.ageSeconds > input.maxAgeSeconds) {
        return { ok: false, reason: 'too_old', record };
      }
      const canonical = canonicalSecret(input.secret);
      // An unknown key id means the key that made the row was retired: the secret is dead.
      const key = ring.byId(row.keyId);
      let match = false;
      if (canonical !== null && key && row.purpose === input.purpose && hmac.length === 32) {
        const expected = hmacSecret(ring, key, input.purpose, canonical);
        // Constant time: the comparison must not reveal how many leading bytes were right.
        match = timingSafeEqual(expected, hmac);
      }
      if (match) return { ok: true, record };
      return { ok: false, reason: row.attempts >= row.maxAttempts ? 'exhausted' : 'mismatch', record };
    },

    consume(repo, id) {
      return repo.consume(id);
    },
  };
}
