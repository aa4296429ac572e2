// Where rendered mail goes: a real SMTP server (nodemailer), or — when none is configured — the
// development mailbox in the database (dev-mailbox.ts). The worker only knows the MailTransport
// interface.
import type { Transporter } from 'nodemailer';
import type { MailSource } from '../core/ports.ts';

/** The log the delivery code writes to (pino's argument order, so a pino logger fits as is). */
export interface DeliveryLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface OutgoingMail {
  /** The outbox row it comes from. */
  id: string;
  realm?: string | null;
  from: string;
  /** The stored address, alone: it becomes an address object, never a header string. */
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<outbox-id@dostup>` — the same on every attempt of one row (see messageIdFor). */
  messageId: string;
  /** What subject, text and html were rendered from (the dev mailbox keeps this instead of them). */
  source?: MailSource;
}

export interface MailTransport {
  /** Resolves once the server accepted the message; rejects otherwise. `signal` aborts the attempt. */
  send(msg: OutgoingMail, opts?: { signal?: AbortSignal }): Promise<void>;
  close?(): void;
}

/** Retrying cannot help (an address that cannot be written into a mail): abandon at once. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}

/**
 * A stable Message-ID per outbox row. When a node dies after the server took the mail but before the
 * row was marked sent, the row is sent again after its lease; with the same Message-ID the receiving
 * side (and the user's mail client) can recognise the second copy as the same message.
 */
export const messageIdFor = (outboxId: string): string => `<${outboxId}@dostup>`;

// A plain local@domain with no whitespace, controls or characters that mean something in an address
// header (quotes, angle brackets, commas, semicolons, colons): such a value can only ever be ONE
// recipient, never a second address or a header of its own.
const ADDRESS = /^[^\s\p{Cc}\p{Zl}\p{Zp}@<>()[\]\\,;:"]{1,64}@[^\s\p{Cc}\p{Zl}\p{Zp}@<>()[\]\\,;:"]{1,253}$/u;

export const isDeliverableAddress = (address: string): boolean => address.length <= 254 && ADDRESS.test(address);

/** MAIL_FROM comes from configuration; still, one line only. */
export function assertHeaderSafe(name: string, value: string): void {
  if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(value)) throw new Error(`${name} must be one line without control characters`);
}

/** A MailTransport over any nodemailer transporter (SMTP in production, a stream in tests). */
export function nodemailerTransport(mailer: Transporter): MailTransport {
  return {
    async send(msg, opts = {}) {
      if (!isDeliverableAddress(msg.to)) throw new PermanentDeliveryError('recipient is not a deliverable address');
      assertHeaderSafe('from', msg.from);
      await mailer.sendMail({
        from: msg.from,
        // An address object: nodemailer writes it as an address, it is never parsed as header text.
        to: { name: '', address: msg.to },
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        messageId: msg.messageId,
        // Our HTML is ours, but nodemailer must never fetch a URL or read a file on its behalf.
        disableFileAccess: true,
        disableUrlAccess: true,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },
    close: () => mailer.close(),
  };
}

/**
 * Real mail through `SMTP_URL` (smtp[s]://user:pass@host:port). No pool: the worker sends a few mails
 * per round and a pooled connection would outlive a server restart for nothing. The timeouts bound one
 * attempt (connect 10 s, greeting 10 s, 20 s of silence) well inside the worker's lease.
 */
export function smtpTransport(url: string): MailTransport {
  // nodemailer is loaded with the first mail, not at start: a node that never mails (the embedded
  // default uses the dev mailbox) doesn't keep it in memory.
  let inner: Promise<MailTransport> | null = null;
  const load = () => (inner ??= import('nodemailer').then(({ default: nodemailer }) => smtpOver(nodemailer, url)));
  return {
    send: async (msg, opts) => (await load()).send(msg, opts),
    close: () => void inner?.then((t) => t.close?.()),
  };
}

function smtpOver(nodemailer: typeof import('nodemailer').default, url: string): MailTransport {
  return nodemailerTransport(
    nodemailer.createTransport({
      url,
      pool: false,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    }),
  );
}
