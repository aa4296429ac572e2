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
});

describeEachDriver('dev mailbox repository', (getStore) => {
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

  it('latestFor finds the newest mail to an address, whatever its case, even within one transaction', async () => {
    const s = getStore();
    const to = `${uniqueName('Dev')}@Example.test`;
    const [, b] = await s.transaction(async (tx) => [
      await tx.devMailbox.add(mail(to, 'one')),
      await tx.devMailbox.add(mail(to, 'two')),
    ]);
    await s.devMailbox.add(mail(`other-${to}`, 'other'));
    expect((await s.devMailbox.latestFor(to.toLowerCase()))?.id).toBe(b.id);
    expect(await s.devMailbox.latestFor('nobody@example.test')).toBeNull();
  });
});
