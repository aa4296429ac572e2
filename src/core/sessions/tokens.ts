// Session tokens: 256 bits from the CSPRNG, given to the browser once and stored only as SHA-256.
// A plain (unkeyed) hash is enough here because the token itself has full entropy: a stolen
// database cannot be turned back into a usable token, and there is nothing to brute-force.
import { hash } from 'node:crypto';
import type { Random } from '../ports.ts';

export const SESSION_TOKEN_BYTES = 32;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function newSessionToken(random: Random): string {
  return random.bytes(SESSION_TOKEN_BYTES).toString('base64url');
}

export function hashSessionToken(token: string): Buffer {
  return Buffer.from(sessionTokenKey(token), 'base64');
}

/**
 * The same SHA-256 as base64 text: the session cache's key, computed on every `whoami`. The one-shot
 * `crypto.hash` costs a fifth of createHash/update/digest/toString (no Hash object per request).
 */
export function sessionTokenKey(token: string): string {
  return hash('sha256', token, 'base64');
}

/** Cheap shape check before any lookup, so junk cookies never reach the database. */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_RE.test(token);
}
