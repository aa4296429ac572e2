import { expect, it } from 'vitest';
import type { NewDevMail } from '../../core/ports.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { uniqueName, uuid } from '../testing/fixtures.ts';

const mail = (recipient: string, subject: string): NewDevMail => ({
  outboxId: uuid(),
  realm: 'main',
  recipient,
  subject,
  textBody: `Текст: ${subject}\nhttps://portal.example.test/r/main/recovery/x`,
  htmlBody: `<p>${subject}</p>`,
  source: null,
});

describeEachDriver('dev mailbox repository', (getStore, { raw }) => {
  it('add, get, list newest first', async () => {
    const s = getStore();
    const to = `${uniqueName('dev')}@example.test`;
    const first = await s.devMailbox.add(mail(to, 'first'));
    const second = await s.devMailbox.add(mail(to, 'second'));
    expect(first).toMatchObject({ recipient: to, subject: 'first', realm: 'main' });
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(await s.devMailbox.get(first.id)).toEqual(first);
    expect(await s.devMailbox.get(uuid())).toBeNull();
    expect(await s.devMailbox.get('nope')).toBeNull();
    const listed = await s.devMailbox.list(2);
    expect(listed.map((m) => m.id)).toEqual([second.id, first.id]);
  });

  it('a stored mail large enough to be compressed is compressed with lz4 where the database has it, else pglz', async () => {
    const s = getStore();
    const big = 'Ссылка для восстановления пароля: https://portal.example.test/r/main/recovery/x. '.repeat(60);
    const stored = await s.devMailbox.add({
      ...mail(`${uniqueName('lz')}@example.test`, 'big'),
      htmlBody: big,
      textBody: big,
    });
    const [has] = await raw(
      "select 'lz4' = any (enumvals) as lz4 from pg_settings where name = 'default_toast_compression'",
    );
    const [row] = await raw(
      'select pg_column_compression(html_body) as html, pg_column_compression(text_body) as text, html_body from dev_mailbox where id = $1',
      [stored.id],
    );
    const method = has?.lz4 ? 'lz4' : 'pglz';
    expect(row).toMatchObject({ html: method, text: method, html_body: big });
    expect((await s.devMailbox.get(stored.id))?.htmlBody).toBe(big);
  });

  it('latestFor finds the newest mail to an address, whatever its case, even within one transaction', async () => {
    const s = getStore();
    const to = `${uniqueName('Dev')}@Example.test`;
    // Six mails in one transaction share now() (and PGlite's clock moves once a millisecond): only
    // the order they were stored in can say which is the newest.
    const added = await s.transaction(async (tx) => {
      const out = [];
      for (const n of ['1', '2', '3', '4', '5', '6']) out.push(await tx.devMailbox.add(mail(to, n)));
      return out;
    });
    await s.devMailbox.add(mail(`other-${to}`, 'other'));
    expect((await s.devMailbox.latestFor(to.toLowerCase()))?.id).toBe(added[5]!.id);
    expect(await s.devMailbox.latestFor('nobody@example.test')).toBeNull();
  });

  it('addMany stores several in one statement, in order, each answered with its own row', async () => {
    const s = getStore();
    const to = `${uniqueName('many')}@example.test`;
    const batch = [mail(to, 'a'), mail(`x-${to}`, 'b'), mail(to, 'c')];
    const stored = await s.devMailbox.addMany(batch);
    const got = await Promise.all(stored.map((m) => s.devMailbox.get(m.id)));
    expect(got.map((m) => [m?.outboxId, m?.subject])).toEqual(batch.map((m) => [m.outboxId, m.subject]));
    expect(new Set(stored.map((m) => m.id)).size).toBe(3);
    // The last one to `to` is its newest, though all three share one statement's clock.
    expect((await s.devMailbox.latestFor(to))?.subject).toBe('c');
    expect(await s.devMailbox.addMany([])).toEqual([]);
  });

  it('deleteOlderThan removes mail stored before the cut-off and keeps the rest', async () => {
    const s = getStore();
    const to = `${uniqueName('old')}@example.test`;
    const [old] = await s.devMailbox.addMany([mail(to, 'old')]);
    const [recent] = await s.devMailbox.addMany([mail(to, 'recent')]);
    await raw(`update dev_mailbox set created_at = now() - interval '2 days' where id = $1`, [old!.id]);
    expect(await s.devMailbox.deleteOlderThan(new Date(Date.now() - 24 * 3600 * 1000))).toBeGreaterThanOrEqual(1);
    expect(await s.devMailbox.get(old!.id)).toBeNull();
    expect(await s.devMailbox.get(recent!.id)).not.toBeNull();
  });

  it('keeps a mail as its source (add and addMany): read back as stored, no bodies, a small row', async () => {
    const s = getStore();
    const to = `${uniqueName('src')}@example.test`;
    const source = {
      template: 'recovery-code',
      locale: 'ru' as const,
      params: {
        realmName: 'Портал «Ё»',
        code: '123456',
        link: 'https://portal.example.test/r/main/recovery/x?a=1&b=2',
      },
      branding: { primaryColor: '#0a7d3b' },
    };
    const one = await s.devMailbox.add({ ...mail(to, 'one'), textBody: null, htmlBody: null, source });
    const [two] = await s.devMailbox.addMany([{ ...mail(to, 'two'), textBody: null, htmlBody: null, source }]);
    for (const id of [one.id, two!.id]) {
      expect(await s.devMailbox.get(id)).toMatchObject({ textBody: null, htmlBody: null, source });
    }
    expect((await s.devMailbox.latestFor(to))?.source).toEqual(source);
    const [row] = await raw('select pg_column_size(d.*) as bytes from dev_mailbox d where id = $1', [two!.id]);
    expect(Number(row?.bytes)).toBeLessThan(600);
  });

  it('refuses a mail with neither bodies nor a source', async () => {
    const s = getStore();
    const empty = { ...mail(`${uniqueName('none')}@example.test`, 'none'), textBody: null, htmlBody: null };
    await expect(s.devMailbox.add(empty)).rejects.toThrow(/dev_mailbox_has_body/);
    await expect(s.devMailbox.add({ ...empty, textBody: 'text only' })).rejects.toThrow(/dev_mailbox_has_body/);
  });
});
