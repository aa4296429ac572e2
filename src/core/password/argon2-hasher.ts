// Password hashing with Argon2id (RFC 9106, the OWASP first choice). @node-rs/argon2's async `hash`
// and `verify` run on the libuv threadpool, never on the event loop: one verification takes tens of
// milliseconds of CPU and ~19 MiB of memory, which on the main thread would stall every other request.
// (The threadpool has UV_THREADPOOL_SIZE threads; bin/dostup.js makes that one per core.)
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Algorithm, hash, parseOptions, Version, verify } from '@node-rs/argon2';
import type { PasswordHasher } from '../ports.ts';
import { assertPasswordSize, normalizePassword, isOversized as oversized } from './policy.ts';

export interface Argon2Params {
  /** Memory per hash in KiB (`m`). */
  memoryKiB: number;
  /** Passes over the memory (`t`). */
  iterations: number;
  /** Lanes (`p`); each gets memoryKiB / p. */
  parallelism: number;
  /**
   * Hashes handed to the threadpool at once (default: the number of cores). More than the pool
   * has threads queue there, ahead of its other users; more threads than cores only make
   * memory-hard hashes fight each other and the event loop for CPU. Extra callers queue here.
   */
  concurrency?: number;
}

/** A counting gate: at most `n` holders at once, FIFO for the rest. `load()`: holders + waiters. */
export function createGate(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next)
        next(); // hand the slot over without releasing it
      else active--;
    }
  }
  return Object.assign(run, { load: () => active + waiting.length });
}

/** OWASP Password Storage Cheat Sheet, Argon2id option 2: m=19 MiB, t=2, p=1. */
export const ARGON2_DEFAULTS: Readonly<Argon2Params> = Object.freeze({
  memoryKiB: 19_456,
  iterations: 2,
  parallelism: 1,
});

function validate(p: Argon2Params): void {
  const int = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  if (!int(p.parallelism, 1, 255)) throw new RangeError('argon2: parallelism must be an integer in 1..255');
  if (!int(p.iterations, 1, 2 ** 32 - 1)) throw new RangeError('argon2: iterations must be a positive integer');
  // Argon2 needs at least 8 KiB per lane.
  if (!int(p.memoryKiB, 8 * p.parallelism, 2 ** 32 - 1))
    throw new RangeError('argon2: memoryKiB must be >= 8 × parallelism');
}

/**
 * An Argon2id PasswordHasher. Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a
 * random 16-byte salt, so the parameters travel with each hash and can be raised later: `verify`
 * reports `needsRehash` for a hash made with other parameters, and the caller re-hashes on sign-in.
 * Passwords are NFKC-normalized here (NIST 800-63B), so the same password typed on another device —
 * composed or decomposed `ё`, full-width digits from an IME — still matches, whatever the caller did.
 */
export function createArgon2Hasher(params: Partial<Argon2Params> = {}): PasswordHasher {
  const p: Argon2Params = { ...ARGON2_DEFAULTS, ...params };
  validate(p);
  const options = {
    algorithm: Algorithm.Argon2id,
    version: Version.V0x13,
    memoryCost: p.memoryKiB,
    timeCost: p.iterations,
    parallelism: p.parallelism,
  };
  const gate = createGate(Math.max(1, p.concurrency ?? availableParallelism()));
  // Per instance, not per module: two hashers with different params must not share a dummy hash.
  let dummyHash: Promise<string> | null = null;

  const getDummyHash = (): Promise<string> => {
    if (!dummyHash) {
      // A random password nobody knows, hashed with the same parameters, so that verifying against it
      // costs exactly what a real verification costs.
      dummyHash = gate(() => hash(randomBytes(32).toString('base64url'), options));
      dummyHash.catch(() => {
        dummyHash = null;
      });
    }
    return dummyHash;
  };

  return {
    inFlight: () => gate.load(),

    async hash(password) {
      // Callers check first; this is the last line of defence against hashing megabytes (a cheap DoS).
      assertPasswordSize(password);
      return gate(() => hash(normalizePassword(password), options));
    },

    async verify(encoded, password) {
      // Nothing over the cap was ever hashed, so it cannot match; don't spend a verification on it.
      if (oversized(password)) return { ok: false, needsRehash: false };
      let parsed: ReturnType<typeof parseOptions>;
      try {
        parsed = parseOptions(encoded);
      } catch {
        // Not an argon2 PHC string (corrupt row, another scheme): a failed sign-in, never a 500.
        return { ok: false, needsRehash: false };
      }
      let ok: boolean;
      try {
        // The library compares the digests in constant time.
        ok = await gate(() => verify(encoded, normalizePassword(password)));
      } catch {
        return { ok: false, needsRehash: false };
      }
      const needsRehash =
        parsed.algorithm !== Algorithm.Argon2id ||
        parsed.version !== Version.V0x13 ||
        parsed.memoryCost !== p.memoryKiB ||
        parsed.timeCost !== p.iterations ||
        parsed.parallelism !== p.parallelism;
      return { ok, needsRehash: ok && needsRehash };
    },

    async dummyVerify(password) {
      if (oversized(password)) return;
      try {
        const dummy = await getDummyHash();
        await gate(() => verify(dummy, normalizePassword(password)));
      } catch {
        // Nothing to report: the caller answers "invalid credentials" either way.
      }
    },
  };
}
