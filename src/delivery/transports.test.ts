import nodemailer, { type Transporter } from 'nodemailer';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  type DeliveryLog,
  isDeliverableAddress,
  messageIdFor,
  nodemailerTransport,
  type OutgoingMail,
  PermanentDeliveryError,
} from './transports.ts';

/** nodemailer's stream transport builds the real MIME message without a network; we keep it. */
function capturing() {
  const raws: string[] = [];
  const mailer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const send = mailer.sendMail.bind(mailer);
  mailer.sendMail = (async (opts: Parameters<typeof send>[0]) => {
    const info = await send(opts);
    raws.push((info.message as Buffer).toString('utf8'));
    return info;
  }) as typeof mailer.sendMail;
  return { transport: nodemailerTransport(mailer as unknown as Transporter), raws };
}

const headersOf = (raw: string) => raw.split('\r\n\r\n')[0]!.split('\r\n');

const mail = (overrides: Partial<OutgoingMail> = {}): OutgoingMail => ({
  id: '6f1c2b9e-1b6f-4a55-9c2a-0d8f2f1e3a10',
  from: 'Dostup <no-reply@dostup.example>',
  to: 'user@example.test',
  subject: 'Восстановление пароля — Портал',
  text: 'Код: 493817\nhttps://portal.example.test/r/main/recovery/abc',
  html: '<p>Код: 493817</p>',
  messageId: messageIdFor('6f1c2b9e-1b6f-4a55-9c2a-0d8f2f1e3a10'),
  ...overrides,
});

describe('nodemailer transport', () => {
  it('writes From, To, Subject and the stable Message-ID; a text and an HTML part', async () => {
    const { transport, raws } = capturing();
    await transport.send(mail());
    const headers = headersOf(raws[0]!);
    expect(headers).toContain('Message-ID: <6f1c2b9e-1b6f-4a55-9c2a-0d8f2f1e3a10@dostup>');
    expect(headers).toContain('From: Dostup <no-reply@dostup.example>');
    expect(headers).toContain('To: user@example.test');
    expect(raws[0]).toMatch(/Content-Type: text\/plain/);
    expect(raws[0]).toMatch(/Content-Type: text\/html/);
  });

  it.each([
    'victim@example.test\r\nBcc: evil@example.test',
    'victim@example.test\nBcc: evil@example.test',
    'victim@example.test, evil@example.test',
    'victim@example.test;evil@example.test',
    'Evil <evil@example.test>',
    '"quoted"@example.test',
    'no-at-sign',
    'a@b@c',
    '',
  ])('refuses a recipient that is not exactly one plain address: %j', async (to) => {
    const { transport, raws } = capturing();
    await expect(transport.send(mail({ to }))).rejects.toBeInstanceOf(PermanentDeliveryError);
    expect(raws).toEqual([]);
  });

  it('a CR/LF smuggled into the subject or From cannot add a header', async () => {
    const { transport, raws } = capturing();
    await transport.send(mail({ subject: 'Hi\r\nBcc: evil@example.test\r\nX-Evil: 1' }));
    const headers = headersOf(raws[0]!);
    expect(headers.some((h) => /^(bcc|x-evil):/i.test(h))).toBe(false);
    expect(headers.filter((h) => /^subject:/i.test(h))).toHaveLength(1);
    await expect(transport.send(mail({ from: 'a@b.example\r\nBcc: evil@example.test' }))).rejects.toThrow(/one line/);
  });

  it('takes the server log as it is (a pino logger is a DeliveryLog)', () => {
    const log: DeliveryLog = pino({ level: 'silent' });
    expect(() => log.info({ a: 1 }, 'x')).not.toThrow();
  });

  it('knows a deliverable address', () => {
    expect(isDeliverableAddress('Ivan.Petrov+tag@пример.рф')).toBe(true);
    expect(isDeliverableAddress(`${'a'.repeat(65)}@example.test`)).toBe(false);
    expect(isDeliverableAddress('a b@example.test')).toBe(false);
  });
});
