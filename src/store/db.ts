// Shared plumbing for the repositories: the database handle type both drivers satisfy, and the
// error hygiene every repository call goes through.
import { type Column, getTableName, SQL, type SQLChunk, StringChunk, sql, type Table } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { DostupError } from '../core/errors.ts';

/**
 * A drizzle handle on either driver, or a transaction on one (a transaction is a PgDatabase too),
 * so one repository implementation serves node-postgres, PGlite and both inside transactions.
 */
// biome-ignore lint/suspicious/noExplicitAny: the drivers' result kinds differ; repositories only use the common query builder
export type Db = PgDatabase<PgQueryResultHKT, any>;

/** Raw SQL whose rows are read by name (counts, CTEs). Both drivers answer with `{ rows }`. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

const OPEN = new StringChunk('(');
const NEXT = new StringChunk(', (');
const COMMA = new StringChunk(', ');
const CLOSE = new StringChunk(')');

/**
 * A multi-row `insert into T (c1, c2, …) values (…), (…)` built from plain values, for the inserts on
 * every request's path. drizzle's insert builder spends ~30 µs a row assembling the statement (a
 * Param and a dozen class checks per value: 0.46 ms for a batch of 16 events, measured) — more than
 * the database takes to write the row; this takes ~2 µs. Table and column names come from the
 * drizzle schema (written once). Values are what the driver sends as they are: strings, numbers,
 * booleans, null, Buffers, JSON already stringified, or a drizzle `sql` expression; a Date becomes
 * its ISO string. The target columns give each parameter its type. `tail` follows the VALUES list
 * (`returning …`).
 */
export function plainInsert(table: Table, columns: Column[]) {
  const head = new StringChunk(
    `insert into "${getTableName(table)}" (${columns.map((c) => `"${c.name}"`).join(', ')}) values `,
  );
  return (rows: readonly (readonly unknown[])[], tail = ''): SQL => {
    const chunks: unknown[] = [head];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.length !== columns.length)
        throw new Error(`plainInsert: ${row.length} values for ${columns.length} columns`);
      chunks.push(i === 0 ? OPEN : NEXT);
      for (let j = 0; j < row.length; j++) {
        if (j > 0) chunks.push(COMMA);
        const v = row[j];
        // drizzle reads an array as a list of chunks and `undefined` as nothing: neither is a value here.
        if (Array.isArray(v)) throw new Error('plainInsert: array values are not supported');
        chunks.push(v === undefined ? null : v instanceof Date ? v.toISOString() : v);
      }
      chunks.push(CLOSE);
    }
    if (tail) chunks.push(new StringChunk(` ${tail}`));
    return new SQL(chunks as SQLChunk[]);
  };
}

/** A timestamp read by raw SQL: a Date from one driver, the database's text from the other. */
export const asDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

/** Run a DELETE (without RETURNING) and answer how many rows it removed, the same on both drivers. */
export async function countDeleted(db: Db, deleteStatement: SQL): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`with gone as (${deleteStatement} returning 1) select count(*)::int as n from gone`,
  );
  return Number(row?.n ?? 0);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids often come from URLs. A malformed one is simply "not found": passing it to PostgreSQL would
 * raise invalid_text_representation and turn a typo into a 500.
 */
export const isUuid = (s: string): boolean => UUID_RE.test(s);

/** What we keep of a PostgreSQL error: enough to act on, nothing that could carry a secret. */
export class StoreQueryError extends Error {
  /** SQLSTATE, e.g. 23505; undefined for connection-level failures. */
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;

  constructor(message: string, fields: { code?: string; constraint?: string; table?: string }, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StoreQueryError';
    this.code = fields.code;
    this.constraint = fields.constraint;
    this.table = fields.table;
  }
}

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  table?: unknown;
  message?: unknown;
  severity?: unknown;
}

/** The PostgreSQL error behind a drizzle error (drizzle wraps it in DrizzleQueryError.cause). */
export function pgErrorOf(e: unknown): { code: string; constraint?: string; table?: string; message: string } | null {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 4; depth++) {
    const c = cur as PgErrorLike;
    // A server error has a five-character SQLSTATE and a severity; Node's ECONN* codes do not.
    if (typeof c.code === 'string' && /^[0-9A-Z]{5}$/.test(c.code) && typeof c.severity === 'string') {
      const out: { code: string; constraint?: string; table?: string; message: string } = {
        code: c.code,
        message: String(c.message ?? c.code),
      };
      if (typeof c.constraint === 'string') out.constraint = c.constraint;
      if (typeof c.table === 'string') out.table = c.table;
      return out;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * Drizzle's DrizzleQueryError puts the bound parameters in its message, and the driver errors carry
 * them as properties (PGlite) or echo values in `detail`. Parameters here are password hashes, session
 * token hashes and personal data, so an error leaving the store is rebuilt from the SQLSTATE, the
 * constraint and the server's message only — whatever logs it later cannot leak them.
 */
export function toStoreError(e: unknown): unknown {
  if (e instanceof DostupError || e instanceof StoreQueryError) return e;
  const pg = pgErrorOf(e);
  if (pg) return new StoreQueryError(`database: ${pg.message}`, pg);
  if (e instanceof Error && e.name === 'DrizzleQueryError' && e.cause instanceof Error) {
    // Connection-level failure (ECONNREFUSED, pool closed …): the cause has no parameters in it.
    const code = (e.cause as { code?: unknown }).code;
    return new StoreQueryError(`database: ${e.cause.message}`, typeof code === 'string' ? { code } : {}, e.cause);
  }
  return e;
}

/**
 * Wrap every method of a repository: run `guard` first, then clean errors with toStoreError.
 * Used on the store's root repositories (guard = "not inside one of this store's transactions").
 */
export function wrapRepo<T extends object>(repo: T, guard: () => void): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(repo)) {
    if (typeof value !== 'function') {
      out[key] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => Promise<unknown>;
    out[key] = async (...args: unknown[]) => {
      guard();
      try {
        return await fn(...args);
      } catch (e) {
        throw toStoreError(e);
      }
    };
  }
  return out as T;
}
