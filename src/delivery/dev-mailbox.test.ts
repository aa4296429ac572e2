import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../core/i18n/catalog.ts';
import type { DevMailboxRepo, MailSource, NewDevMail, StoredDevMail } from '../core/ports.ts';
import { devMailboxTransport, openDevMail } from './dev-mailbox.ts';
import { renderSource } from './mail-templates.ts';
import { type DeliveryLog, messageIdFor, type OutgoingMail } from './transports.ts';

const catalog = loadCatalog();
const source: MailSource = {
  template: 'recovery-code',
  locale: 'ru',
  params: {
    realmName: 'Портал',
    code: '493817',
    link: 'https://portal.example.test/r/main/recovery/abc',
    linkLifetimeMinutes: 30,
    codeLifetimeMinutes: 10,
  },
  branding: { primaryColor: '#0a7d3b' },
};
const rendered = renderSource(catalog, source);

const outgoing = (overrides: Partial<OutgoingMail> = {}): OutgoingMail => ({
  id: '6f1c2b9e-1b6f-4a55-9c2a-0d8f2f1e3a10',
  realm: 'main',
  from: 'Dostup <no-reply@dostup.example>',
  to: 'user@example.test',
  messageId: messageIdFor('6f1c2b9e-1b6f-4a55-9c2a-0d8f2f1e3a10'),
  ...rendered,
  ...overrides,
});

function capture() {
  const added: NewDevMail[] = [];
  const repo = {
    addMany: async (ms: NewDevMail[]): Promise<{ id: string }[]> => {
      added.push(...ms);
      return ms.map(() => ({ id: 'a0000000-0000-4000-8000-000000000001' }));
    },
  } as unknown as DevMailboxRepo;
  const lines: { fields: object; msg: string }[] = [];
  const log: DeliveryLog = { info: (fields, msg) => lines.push({ fields, msg }), warn: () => {}, error: () => {} };
  return { added, lines, transport: devMailboxTransport(repo, log, { baseUrl: 'http://localhost:8080/' }) };
}

const stored = (m: Partial<StoredDevMail>): StoredDevMail => ({
  id: 'a0000000-0000-4000-8000-000000000001',
  outboxId: null,
  realm: 'main',
  recipient: 'user@example.test',
  subject: rendered.subject,
  textBody: null,
  htmlBody: null,
  source: null,
  createdAt: new Date(),
  ...m,
});

describe('dev mailbox transport', () => {
  it('stores the source, not the bodies, and logs a summary with the links and where to read it', async () => {
    const { added, lines, transport } = capture();
    await transport.send(outgoing({ source }));
    expect(added[0]).toEqual({
      outboxId: outgoing().id,
      realm: 'main',
      recipient: 'user@example.test',
      subject: rendered.subject,
      textBody: null,
      htmlBody: null,
      source,
    });
    expect(lines[0]?.fields).toMatchObject({
      to: 'user@example.test',
      links: ['https://portal.example.test/r/main/recovery/abc'],
      view: 'http://localhost:8080/dev/mailbox/a0000000-0000-4000-8000-000000000001',
    });
  });

  it('stores the bodies of mail handed over without a source', async () => {
    const { added, transport } = capture();
    await transport.send(outgoing({ text: 'plain', html: '<p>plain</p>' }));
    expect(added[0]).toMatchObject({ textBody: 'plain', htmlBody: '<p>plain</p>', source: null });
  });
});

describe('a dev-mailbox mail opened for the pages', () => {
  it('renders its source into exactly the mail the worker rendered', () => {
    const m = openDevMail(catalog, stored({ source }));
    expect(m.textBody).toBe(rendered.text);
    expect(m.htmlBody).toBe(rendered.html);
    expect(m).not.toHaveProperty('source');
  });

  it('keeps stored bodies as they are (mail stored before sources were)', () => {
    const m = openDevMail(catalog, stored({ textBody: 'old text', htmlBody: '<p>old</p>', source }));
    expect(m).toMatchObject({ textBody: 'old text', htmlBody: '<p>old</p>' });
  });

  it('a source that no longer renders says so, escaped, instead of throwing', () => {
    const m = openDevMail(catalog, stored({ source: { ...source, template: '<gone>' } }));
    expect(m.textBody).toMatch(/^This mail can no longer be shown: unknown mail template/);
    expect(m.htmlBody).toContain('&lt;gone&gt;');
    expect(m.htmlBody).not.toContain('<gone>');
    expect(openDevMail(catalog, stored({})).textBody).toMatch(/neither bodies nor a source/);
  });
});
