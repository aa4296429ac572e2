// Drizzle definition of one_time_secrets (migrations/0002_one_time_secrets.sql is the source of
// truth: its checks, the foreign keys and the "one live secret per user + purpose" index live there).
// A file of its own so the table can land without editing schema.ts.
import { integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './schema.ts';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const oneTimeSecrets = pgTable('one_time_secrets', {
  id: uuid('id').primaryKey(),
  realm: text('realm').notNull(),
  userId: uuid('user_id').notNull(),
  purpose: text('purpose').notNull(),
  flowId: uuid('flow_id'),
  hmac: bytea('hmac').notNull(),
  keyId: text('key_id').notNull(),
  attempts: integer('attempts').notNull().default(0),
  maxAttempts: integer('max_attempts').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
  expiresAt: tstz('expires_at').notNull(),
  usedAt: tstz('used_at'),
  invalidatedAt: tstz('invalidated_at'),
});
