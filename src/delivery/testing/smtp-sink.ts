// A real SMTP server on loopback for the delivery tests (smtp-server), keeping every message it
// accepts, parsed with mailparser. Not a mock: nodemailer speaks real SMTP to it, so connection
// refusals, 5xx replies and Message-IDs behave as they would with a production relay.
import { createServer } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpSink {
  port: number;
  /** Messages accepted so far, in arrival order. */
  received: ParsedMail[];
  /** RCPT TO commands seen (each delivery attempt that got that far). */
  attempts: number;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Listen here (e.g. a port that was down before); an ephemeral port when 0 or absent. */
  port?: number;
  /** Answer every RCPT TO with this 5xx reply code. */
  rejectWith?: number;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ParsedMail[] = [];
  const sink = { received, attempts: 0 } as SmtpSink;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      sink.attempts++;
      if (opts.rejectWith) {
        callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: opts.rejectWith }));
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push(mail);
          callback();
        })
        .catch((e: Error) => callback(e));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('smtp sink: no port');
  sink.port = address.port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/** A loopback port with nothing listening on it (an SMTP server that is down). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Poll `cond` until it holds or `timeoutMs` passes (then fail with `what`). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
