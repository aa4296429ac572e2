// Drizzle definitions of migrations/0003_outbox.sql and 0004_mail_order.sql (outbox + dev mailbox), kept apart from schema.ts
// so the delivery tables can evolve without touching the account tables. As in schema.ts, the SQL
// file is the source of truth: checks and indexes live there.
import { bigint, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './schema.ts';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const outbox = pgTable('outbox', {
  id: uuid('id').primaryKey(),
  realm: text('realm'),
  channel: text('channel').notNull(),
  recipient: text('recipient').notNull(),
  template: text('template').notNull(),
  locale: text('locale').notNull(),
  payload: bytea('payload'),
  status: text('status').notNull().default('queued'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
  lockedUntil: tstz('locked_until'),
  lastError: text('last_error'),
  createdAt: tstz('created_at').notNull().defaultNow(),
  sentAt: tstz('sent_at'),
  // Insertion order (migrations/0004): created_at ties within a transaction and on PGlite's clock.
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
});

export const devMailbox = pgTable('dev_mailbox', {
  id: uuid('id').primaryKey().defaultRandom(),
  outboxId: uuid('outbox_id'),
  realm: text('realm'),
  recipient: text('recipient').notNull(),
  subject: text('subject').notNull(),
  textBody: text('text_body'),
  htmlBody: text('html_body'),
  /** MailSource as JSON (text, not jsonb: stored on every mail, read rarely, never queried into). */
  source: text('source'),
  createdAt: tstz('created_at').notNull().defaultNow(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
});
