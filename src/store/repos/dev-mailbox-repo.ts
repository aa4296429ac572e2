// The development mailbox: where mail goes when no SMTP server is configured, so a developer (and
// the e2e tests and the benchmark) can read the links and codes a real user would get by mail.
// It holds mail in clear text — which is why it only ever exists without real SMTP.
import { desc, eq, sql } from 'drizzle-orm';
import type { DevMail, DevMailboxRepo, NewDevMail } from '../../core/ports.ts';
import { type Db, isUuid } from '../db.ts';
import { devMailbox } from '../schema-outbox.ts';

type DevMailRow = typeof devMailbox.$inferSelect;

const MAX_LIST = 500;

const toMail = (r: DevMailRow): DevMail => ({
  id: r.id,
  outboxId: r.outboxId,
  realm: r.realm,
  recipient: r.recipient,
  subject: r.subject,
  textBody: r.textBody,
  htmlBody: r.htmlBody,
  createdAt: r.createdAt,
});

export function createDevMailboxRepo(db: Db): DevMailboxRepo {
  return {
    async add(m: NewDevMail): Promise<DevMail> {
      const [row] = await db
        .insert(devMailbox)
        .values({
          outboxId: m.outboxId,
          realm: m.realm,
          recipient: m.recipient,
          subject: m.subject,
          textBody: m.textBody,
          htmlBody: m.htmlBody,
          // The statement's own time, not the transaction's: two mails added in one transaction
          // must still come out of latestFor() in the order they were added.
          createdAt: sql`clock_timestamp()`,
        })
        .returning();
      if (!row) throw new Error('dev mailbox insert returned no row');
      return toMail(row);
    },

    async list(limit: number): Promise<DevMail[]> {
      const rows = await db
        .select()
        .from(devMailbox)
        .orderBy(desc(devMailbox.createdAt), desc(devMailbox.id))
        .limit(Math.max(1, Math.min(MAX_LIST, Math.floor(limit))));
      return rows.map(toMail);
    },

    async get(id: string): Promise<DevMail | null> {
      if (!isUuid(id)) return null;
      const [row] = await db.select().from(devMailbox).where(eq(devMailbox.id, id)).limit(1);
      return row ? toMail(row) : null;
    },

    async latestFor(recipient: string): Promise<DevMail | null> {
      // Case-insensitive like the mail system itself (the domain part is): tests type the address
      // the way they like; the index is on lower(recipient).
      const [row] = await db
        .select()
        .from(devMailbox)
        .where(sql`lower(${devMailbox.recipient}) = lower(${recipient})`)
        .orderBy(desc(devMailbox.createdAt), desc(devMailbox.id))
        .limit(1);
      return row ? toMail(row) : null;
    },
  };
}
