// The embedded default's mail queue: mail stored in the transaction that queues it, with its outbox
// row written finished. On both drivers, against the real tables.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { loadCatalog } from '../core/i18n/catalog.ts';
import type { MailToQueue } from '../core/ports.ts';
import { describeEachDriver } from '../store/testing/each-driver.ts';
import { rejectionOf, testPolicy, uniqueName } from '../store/testing/fixtures.ts';
import { openDevMail } from './dev-mailbox.ts';
import { devMailboxQueue } from './dev-mailbox-queue.ts';
import { renderSource } from './mail-templates.ts';
import type { DeliveryLog } from './transports.ts';

const catalog = loadCatalog();

function setup() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (fields: object, msg: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, msg });
    };
  const log: DeliveryLog = { info: at('info'), warn: at('warn'), error: at('error') };
  const queue = devMailboxQueue({ catalog, log, baseUrl: 'http://localhost:8080/', uuid: randomUUID });
  return { lines, queue };
}

const codeMail = (realm: string, recipient: string, code: string): MailToQueue => ({
  realm,
  recipient,
  template: 'recovery-code',
  locale: 'ru',
  params: {
    code,
    link: `https://portal.example.test/r/${realm}/recovery/${code}`,
    linkLifetimeMinutes: 30,
    codeLifetimeMinutes: 10,
  },
});

describeEachDriver('dev mailbox queue', (getStore, { raw }) => {
  async function brandedRealm() {
    const name = uniqueName();
    await getStore().realms.upsert(
      testPolicy(name, { branding: { name: { ru: 'Портал', en: 'Portal' }, primaryColor: '#0a7d3b' } }),
    );
    return name;
  }

  it('stores each mail in the transaction that queues it, with its outbox row already sent and no payload', async () => {
    const store = getStore();
    const realm = await brandedRealm();
    const { queue, lines } = setup();
    const mails = [
      codeMail(realm, 'First.User@example.test', '111111'),
      codeMail(realm, 'second@example.test', '222222'),
    ];
    const queued = await store.transaction((tx) => queue.enqueueMany(tx, mails));
    expect(queued).toHaveLength(2);
    for (const [i, q] of queued.entries()) {
      const row = await store.outbox.get(q.message.id);
      expect(row).toMatchObject({ status: 'sent', attempts: 1, payload: null, recipient: mails[i]!.recipient, realm });
      expect(row?.sentAt).toBeInstanceOf(Date);
      // The recipient as given (mail goes to the address as stored), the source with the realm's branding.
      const stored = await store.devMailbox.latestFor(mails[i]!.recipient.toLowerCase());
      expect(stored).toMatchObject({
        outboxId: q.message.id,
        recipient: mails[i]!.recipient,
        textBody: null,
        htmlBody: null,
      });
      const { template, locale, params } = mails[i]!;
      expect(stored?.source).toEqual({
        template,
        locale,
        params,
        branding: expect.objectContaining({ primaryColor: '#0a7d3b' }),
      });
      expect(stored?.subject).toBe('Восстановление пароля — Портал');
      // Shown later, it is exactly the mail the worker would have rendered and sent.
      const shown = openDevMail(catalog, stored!);
      const rendered = renderSource(catalog, stored!.source!);
      expect([shown.textBody, shown.htmlBody]).toEqual([rendered.text, rendered.html]);
      expect(shown.htmlBody).toContain('#0a7d3b');
    }
    // Nothing is printed before `deliver` (called once the transaction committed); then each mail's links.
    expect(lines).toEqual([]);
    queue.deliver(queued);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'dev mailbox: mail stored'],
      ['info', 'dev mailbox: mail stored'],
    ]);
    expect(lines[0]?.fields).toMatchObject({
      to: 'First.User@example.test',
      links: [`https://portal.example.test/r/${realm}/recovery/111111`],
      view: expect.stringMatching(/^http:\/\/localhost:8080\/dev\/mailbox\/[0-9a-f-]{36}$/),
    });
    // No worker has anything left to do with them: no lease to run out, no row to claim.
    expect(await store.outbox.claim(10, 60)).toEqual([]);
  });

  it('a transaction that rolls back leaves neither the mail nor its outbox row', async () => {
    const store = getStore();
    const realm = await brandedRealm();
    const { queue } = setup();
    const recipient = `${uniqueName('rollback')}@example.test`;
    let outboxId = '';
    const boom = new Error('the change failed');
    const err = await rejectionOf(
      store.transaction(async (tx) => {
        const [q] = await queue.enqueueMany(tx, [codeMail(realm, recipient, '333333')]);
        outboxId = q!.message.id;
        throw boom;
      }),
    );
    expect(err).toBe(boom);
    expect(outboxId).not.toBe('');
    expect(await store.outbox.get(outboxId)).toBeNull();
    expect(await store.devMailbox.latestFor(recipient)).toBeNull();
  });

  it('a mail that cannot be rendered is written abandoned with the reason, not stored; the rest of the batch and the change commit', async () => {
    const store = getStore();
    const realm = await brandedRealm();
    const { queue, lines } = setup();
    const good = codeMail(realm, `${uniqueName('good')}@example.test`, '444444');
    // A recovery mail with neither a link nor a code cannot be made (TemplateError).
    const bad: MailToQueue = { ...good, recipient: `${uniqueName('bad')}@example.test`, params: {} };
    const queued = await store.transaction(async (tx) => {
      await tx.events.append({ realm, kind: 'recovery.mailed', userId: null, ip: null, userAgent: null });
      return queue.enqueueMany(tx, [bad, good]);
    });
    const [badRow, goodRow] = await Promise.all(queued.map((q) => store.outbox.get(q.message.id)));
    expect(badRow).toMatchObject({ status: 'abandoned', attempts: 1, payload: null, sentAt: null });
    expect(badRow?.lastError).toMatch(/^TemplateError: recovery-code needs a link or a code/);
    expect(goodRow?.status).toBe('sent');
    expect(await store.devMailbox.latestFor(bad.recipient)).toBeNull();
    expect(await store.devMailbox.latestFor(good.recipient)).not.toBeNull();
    expect(await store.events.list({ realm, limit: 5 })).toHaveLength(1);
    queue.deliver(queued);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['error', 'outbox: message abandoned'],
      ['info', 'dev mailbox: mail stored'],
    ]);
    // The log line of an abandoned mail names the row, never the recipient (personal data).
    expect(JSON.stringify(lines[0]?.fields)).not.toContain(bad.recipient);
    expect(lines[0]?.fields).toMatchObject({ id: queued[0]!.message.id, permanent: true });
  });

  it('an unknown template is a programming error: the transaction fails and nothing is written', async () => {
    const store = getStore();
    const realm = await brandedRealm();
    const { queue } = setup();
    const recipient = `${uniqueName('typo')}@example.test`;
    const err = await rejectionOf(
      store.transaction((tx) =>
        queue.enqueue(tx, { ...codeMail(realm, recipient, '555555'), template: 'recovery-cod' }),
      ),
    );
    expect((err as Error).message).toMatch(/unknown mail template recovery-cod/);
    expect(await raw('select 1 from outbox where recipient = $1', [recipient])).toEqual([]);
    expect(await store.devMailbox.latestFor(recipient)).toBeNull();
  });

  it('mail without a realm is stored without branding; an empty batch writes nothing', async () => {
    const store = getStore();
    const { queue } = setup();
    const recipient = `${uniqueName('plain')}@example.test`;
    const mail: MailToQueue = {
      ...codeMail('x', recipient, '666666'),
      realm: null,
      params: { realmName: 'Dostup', code: '666666', codeLifetimeMinutes: 10 },
    };
    const [q] = await store.transaction((tx) => queue.enqueue(tx, mail));
    expect(await store.outbox.get(q!.message.id)).toMatchObject({ status: 'sent', lastError: null });
    const stored = await store.devMailbox.latestFor(recipient);
    expect(stored).toMatchObject({ realm: null, source: { branding: null } });
    expect(openDevMail(catalog, stored!).textBody).toContain('666666');
    expect(await store.transaction((tx) => queue.enqueueMany(tx, []))).toEqual([]);
  });
});
