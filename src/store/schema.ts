// Drizzle table definitions mirroring migrations/*.sql, for typed queries in the repositories.
// The SQL files are the source of truth (they are what runs); this file only describes the result,
// so indexes, checks and triggers live there, not here. Keep the two in step when adding a migration.

import { bigint, boolean, customType, date, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { RealmPolicy } from '../core/realm/policy-schema.ts';

/** bytea as a Buffer on both drivers (node-postgres gives a Buffer, PGlite a Uint8Array). */
export const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
  toDriver: (v) => v,
});

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const realms = pgTable('realms', {
  name: text('name').primaryKey(),
  policy: jsonb('policy').$type<RealmPolicy>().notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  realm: text('realm').notNull(),
  login: text('login'),
  loginKey: text('login_key'),
  email: text('email'),
  emailKey: text('email_key'),
  emailVerified: boolean('email_verified').notNull().default(false),
  phone: text('phone'),
  phoneVerified: boolean('phone_verified').notNull().default(false),
  birthDate: date('birth_date', { mode: 'string' }),
  locale: text('locale'),
  status: text('status').notNull().default('active'),
  rights: text('rights').array().notNull().default([]),
  passwordHash: text('password_hash'),
  createdAt: tstz('created_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const passwordHistory = pgTable('password_history', {
  id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
  userId: uuid('user_id').notNull(),
  hash: text('hash').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

export const sessions = pgTable('sessions', {
  id: uuid('id').primaryKey().defaultRandom(),
  realm: text('realm').notNull(),
  userId: uuid('user_id').notNull(),
  tokenHash: bytea('token_hash').notNull(),
  remember: boolean('remember').notNull().default(false),
  createdAt: tstz('created_at').notNull().defaultNow(),
  lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
  idleExpiresAt: tstz('idle_expires_at').notNull(),
  expiresAt: tstz('expires_at').notNull(),
  revokedAt: tstz('revoked_at'),
  ip: text('ip'),
  userAgent: text('user_agent'),
});

export const flows = pgTable('flows', {
  id: uuid('id').primaryKey(),
  realm: text('realm').notNull(),
  kind: text('kind').notNull(),
  state: text('state').notNull(),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  csrfBinding: bytea('csrf_binding'),
  version: integer('version').notNull().default(1),
  expiresAt: tstz('expires_at').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const events = pgTable('events', {
  id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
  at: tstz('at').notNull().defaultNow(),
  realm: text('realm'),
  kind: text('kind').notNull(),
  userId: uuid('user_id'),
  ip: text('ip'),
  userAgent: text('user_agent'),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
});
