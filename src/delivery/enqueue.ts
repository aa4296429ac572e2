// Queueing a mail. Callers do it INSIDE the transaction that makes the state change the mail is about
// (a reset requested, a password changed): both commit or neither does, so there is never a mail
// about a change that rolled back, nor a change whose mail was lost. Delivery happens after the
// commit, in the outbox worker — no request waits on a mail server. The server's queue writes each
// row already leased to its own node (`enqueueLeasedMails`) and hands it to its worker after the
// commit: no claim statement per mail, and a crash before the send only delays it by the lease.
import type { Locale } from '../core/model.ts';
import type { NewOutboxMessage, OutboxChannel, QueuedMail, Repos } from '../core/ports.ts';
import type { KeyRing } from '../core/secrets/key-ring.ts';
import { MAIL_TEMPLATES } from './mail-templates.ts';
import { sealPayload } from './payload-crypto.ts';

export interface MailToEnqueue {
  /** The outbox row id (a fresh UUID from the caller's Random); also the mail's Message-ID. */
  id: string;
  realm: string | null;
  /** The address exactly as stored for the user. */
  recipient: string;
  template: string;
  locale: Locale;
  /** Template parameters; encrypted before they reach the table (they may hold a one-time code). */
  params: Record<string, unknown>;
}

/**
 * What a payload is sealed to (GCM associated data): the row id, channel, recipient and template.
 * Someone able to write the table but not holding the server secret cannot point a queued code at
 * their own address: the payload no longer opens and the message is abandoned unsent.
 */
export function payloadContext(m: { id: string; channel: OutboxChannel; recipient: string; template: string }): string {
  return JSON.stringify(['outbox', m.id, m.channel, m.recipient, m.template]);
}

/**
 * A misspelt template is a programming error: fail the transaction now rather than have the mail
 * abandoned later, when nobody is looking.
 */
export function assertKnownTemplate(template: string): void {
  if (!(MAIL_TEMPLATES as readonly string[]).includes(template)) throw new Error(`unknown mail template ${template}`);
}

function outboxRow(ring: KeyRing, m: MailToEnqueue): NewOutboxMessage {
  assertKnownTemplate(m.template);
  const channel: OutboxChannel = 'email';
  return {
    id: m.id,
    realm: m.realm,
    channel,
    recipient: m.recipient,
    template: m.template,
    locale: m.locale,
    payload: sealPayload(ring, m.params, payloadContext({ ...m, channel })),
  };
}

export async function enqueueMail(tx: Pick<Repos, 'outbox'>, ring: KeyRing, m: MailToEnqueue): Promise<void> {
  await tx.outbox.enqueue(outboxRow(ring, m));
}

/** Queued and leased to the calling node for `leaseSeconds`: give the result to the worker after the commit. */
export async function enqueueLeasedMails(
  tx: Pick<Repos, 'outbox'>,
  ring: KeyRing,
  ms: MailToEnqueue[],
  leaseSeconds: number,
): Promise<QueuedMail[]> {
  if (ms.length === 0) return [];
  const rows = ms.map((m) => outboxRow(ring, m));
  // Taken before the INSERT: the database's lease starts at the INSERT (its clock_timestamp()), a
  // little later than this, so a send timed from here ends before the lease does.
  const leasedAt = Date.now();
  const messages = await tx.outbox.enqueueLeased(rows, leaseSeconds);
  return messages.map((message) => ({ message, leasedAt }));
}
