// A real SMTP server on loopback (smtp-server) for the journeys: the Dostup server is started with
// SMTP_URL=smtp://127.0.0.1:<port> and delivers to it with nodemailer exactly as it would to a relay.
// Every accepted message is parsed with mailparser and kept, so a journey can read the link or the
// code from the mail a person would have received.
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** When the message was accepted (ms since epoch). */
  receivedAt: number;
  subject: string;
  /** The plain-text part, as a mail client shows it. */
  text: string;
  html: string;
  parsed: ParsedMail;
}

export interface SmtpServer {
  port: number;
  url: string;
  /** Every message accepted so far, in arrival order. */
  mails: ReceivedMail[];
  /** Messages to `addr` (envelope or To: header, case-insensitive), in arrival order. */
  mailsTo(addr: string): ReceivedMail[];
  /**
   * The first message to `to` accepted after `after` (a time in ms, a Date, or by default any):
   * resolves as soon as it arrives, rejects after `timeoutMs` listing what did arrive.
   */
  waitForMail(to: string, opts?: { timeoutMs?: number; after?: number | Date }): Promise<ReceivedMail>;
  close(): Promise<void>;
}

const headerAddresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => (v.address ?? '').toLowerCase()));

export async function startSmtpServer(): Promise<SmtpServer> {
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          mails.push({
            to: [...new Set([...envelopeTo, ...headerAddresses(parsed.to)])],
            from,
            receivedAt: Date.now(),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            parsed,
          });
          for (const w of waiters) w();
          callback();
        })
        .catch((e: Error) => callback(e));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('smtp server: no port');
  const port = address.port;

  const mailsTo = (addr: string) => mails.filter((m) => m.to.includes(addr.toLowerCase()));

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    mailsTo,
    waitForMail(to, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 15_000;
      const after = opts.after instanceof Date ? opts.after.getTime() : (opts.after ?? 0);
      const find = () => mailsTo(to).find((m) => m.receivedAt >= after);
      return new Promise<ReceivedMail>((resolve, reject) => {
        const check = () => {
          const m = find();
          if (!m) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen = mails.map((m) => `${m.to.join(',')}: ${m.subject}`).join('\n  ') || '(none)';
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms; received:\n  ${seen}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
