// The development mailbox: where mail goes when no SMTP server is configured, so a developer (and
// the e2e tests and the benchmark) can read the links and codes a real user would get by mail.
// It holds mail in clear text — which is why it only ever exists without real SMTP.
import { desc, eq, sql } from 'drizzle-orm';
import type { DevMailboxRepo, MailSource, NewDevMail, StoredDevMail } from '../../core/ports.ts';
import { countDeleted, type Db, isUuid, plainInsert, queryRows } from '../db.ts';
import { devMailbox } from '../schema-outbox.ts';

type DevMailRow = typeof devMailbox.$inferSelect;

const MAX_LIST = 500;

/** Our own JSON, but read back from a table: anything that is not an object reads as no source. */
function sourceOf(json: string | null): MailSource | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as MailSource) : null;
  } catch {
    return null;
  }
}

const toMail = (r: DevMailRow): StoredDevMail => ({
  id: r.id,
  outboxId: r.outboxId,
  realm: r.realm,
  recipient: r.recipient,
  subject: r.subject,
  textBody: r.textBody,
  htmlBody: r.htmlBody,
  source: sourceOf(r.source),
  createdAt: r.createdAt,
});

// Every mail of the embedded default lands here: built without drizzle's insert builder (db.ts).
const insertMails = plainInsert(devMailbox, [
  devMailbox.outboxId,
  devMailbox.realm,
  devMailbox.recipient,
  devMailbox.subject,
  devMailbox.textBody,
  devMailbox.htmlBody,
  devMailbox.source,
]);

export function createDevMailboxRepo(db: Db): DevMailboxRepo {
  const rowOf = (m: NewDevMail) => ({
    outboxId: m.outboxId,
    realm: m.realm,
    recipient: m.recipient,
    subject: m.subject,
    textBody: m.textBody,
    htmlBody: m.htmlBody,
    source: m.source ? JSON.stringify(m.source) : null,
  });

  async function addMany(mails: NewDevMail[]): Promise<{ id: string }[]> {
    if (mails.length === 0) return [];
    // Only the ids come back: the bodies are the caller's already, and returning them would move
    // every mail through the database protocol twice.
    const rows = await queryRows<{ id: string; outboxId: string | null }>(
      db,
      insertMails(
        mails.map((m) => {
          const r = rowOf(m);
          return [r.outboxId, r.realm, r.recipient, r.subject, r.textBody, r.htmlBody, r.source];
        }),
        'returning id, outbox_id as "outboxId"',
      ),
    );
    if (rows.length !== mails.length) throw new Error('dev mailbox insert returned fewer rows');
    // RETURNING order is not promised: give each caller the row made from its own mail.
    const byOutbox = new Map(rows.map((r) => [r.outboxId, r]));
    return mails.map((m, i) => ({ id: ((m.outboxId && byOutbox.get(m.outboxId)) || rows[i]!).id }));
  }

  return {
    async add(m: NewDevMail): Promise<StoredDevMail> {
      const [row] = await db.insert(devMailbox).values(rowOf(m)).returning();
      if (!row) throw new Error('dev mailbox insert returned no row');
      return toMail(row);
    },

    addMany,

    async list(limit: number): Promise<StoredDevMail[]> {
      const rows = await db
        .select()
        .from(devMailbox)
        .orderBy(desc(devMailbox.seq))
        .limit(Math.max(1, Math.min(MAX_LIST, Math.floor(limit))));
      return rows.map(toMail);
    },

    async get(id: string): Promise<StoredDevMail | null> {
      if (!isUuid(id)) return null;
      const [row] = await db.select().from(devMailbox).where(eq(devMailbox.id, id)).limit(1);
      return row ? toMail(row) : null;
    },

    async deleteOlderThan(before: Date): Promise<number> {
      return countDeleted(db, sql`delete from dev_mailbox where created_at < ${before.toISOString()}::timestamptz`);
    },

    async latestFor(recipient: string): Promise<StoredDevMail | null> {
      // Case-insensitive like the mail system itself (the domain part is): tests type the address
      // the way they like; the index is on lower(recipient). Newest = last stored (seq), not
      // created_at: that ties inside a transaction and on PGlite's millisecond clock.
      const [row] = await db
        .select()
        .from(devMailbox)
        .where(sql`lower(${devMailbox.recipient}) = lower(${recipient})`)
        .orderBy(desc(devMailbox.seq))
        .limit(1);
      return row ? toMail(row) : null;
    },
  };
}
