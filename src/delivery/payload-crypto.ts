// Encryption of queued mail parameters. A recovery mail's parameters carry the one-time code and
// link token, and codes are never stored in plaintext — not even for the seconds a mail waits in the
// outbox, nor in the backups and replicas that copy the table. So the payload is AES-256-GCM under
// a subkey of the server secret, and wiped once the mail is sent or abandoned.
//
// Format: [version 1 byte][key id 8 ASCII][IV 12][GCM tag 16][ciphertext]. The key id names the ring
// key that sealed it, so a mail queued before a key rotation still opens with the old key. The header
// and an optional caller context (the outbox row it belongs to) are authenticated as AAD: a payload
// moved to another row — say, a victim's code onto a row addressed to an attacker — fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from '../core/secrets/key-ring.ts';

const VERSION = 1;
const KEY_ID_LENGTH = 8;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + KEY_ID_LENGTH;
const MIN_LENGTH = HEADER_LENGTH + IV_LENGTH + TAG_LENGTH;
/** The HKDF purpose label: this subkey encrypts outbox payloads and nothing else. */
export const PAYLOAD_KEY_PURPOSE = 'outbox-payload';

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

function aad(header: Buffer, context: string): Buffer {
  return Buffer.concat([header, Buffer.from(context, 'utf8')]);
}

/** Encrypt `obj` (JSON) under the ring's current key. `context` must be given again to open it. */
export function sealPayload(ring: KeyRing, obj: Record<string, unknown>, context = ''): Buffer {
  const key = ring.current;
  const keyId = Buffer.from(key.id, 'ascii');
  if (keyId.length !== KEY_ID_LENGTH) throw new PayloadError('payload: key id must be 8 ASCII characters');
  const header = Buffer.concat([Buffer.from([VERSION]), keyId]);
  // A random 96-bit IV per message: with at most millions of mails per key, a repeat is negligible.
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', ring.subkey(key, PAYLOAD_KEY_PURPOSE), iv, {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(aad(header, context));
  const body = Buffer.concat([cipher.update(JSON.stringify(obj), 'utf8'), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/**
 * Decrypt with whichever ring key sealed it. Throws PayloadError when the version or key is unknown
 * (a key was dropped from DOSTUP_SECRETS too early) or when anything was altered — GCM authenticates
 * every byte, the header and the context included.
 */
export function openPayload(ring: KeyRing, buf: Buffer, context = ''): Record<string, unknown> {
  if (buf.length < MIN_LENGTH) throw new PayloadError('payload: too short');
  if (buf[0] !== VERSION) throw new PayloadError(`payload: unknown format version ${buf[0]}`);
  const header = buf.subarray(0, HEADER_LENGTH);
  const keyId = header.subarray(1).toString('ascii');
  const key = ring.byId(keyId);
  if (!key) throw new PayloadError(`payload: sealed with key ${JSON.stringify(keyId)}, which is not in DOSTUP_SECRETS`);
  const iv = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
  const tag = buf.subarray(HEADER_LENGTH + IV_LENGTH, MIN_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', ring.subkey(key, PAYLOAD_KEY_PURPOSE), iv, {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(aad(header, context));
  decipher.setAuthTag(tag);
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(buf.subarray(MIN_LENGTH)), decipher.final()]);
  } catch {
    // Do not echo OpenSSL's message: "unable to authenticate data" is all there is to say.
    throw new PayloadError('payload: authentication failed (altered, or sealed for another message)');
  }
  const obj: unknown = JSON.parse(plain.toString('utf8'));
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new PayloadError('payload: not an object');
  return obj as Record<string, unknown>;
}
