// Runs one contract suite on every driver: PGlite in memory always, PostgreSQL when
// TEST_DATABASE_URL is set — in a database created for this run and dropped after, so a run never
// sees (or leaves) another run's rows. One store per suite: PGlite takes seconds to start.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Store } from '../../core/ports.ts';
import { openStoreWithRaw, type RawSql } from '../open-store.ts';

export type DriverName = 'pglite' | 'pg';

export interface DriverContext {
  driver: DriverName;
  /** Plain SQL on the suite's database, bypassing the repositories. */
  raw: RawSql;
}

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** `create database dostup_test_<random>` next to TEST_DATABASE_URL; drop() removes it. */
export async function createFreshPgDatabase(adminUrl: string): Promise<FreshDatabase> {
  const name = `dostup_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // WITH (FORCE) (PostgreSQL ≥ 13): a leaked connection must not leave the database behind.
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

let warned = false;

/** TEST_DATABASE_URL, or undefined after a loud warning: a silently skipped PostgreSQL run looks green. */
export function pgTestUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (!url && !warned) {
    warned = true;
    console.warn(
      'PostgreSQL contract suite SKIPPED: set TEST_DATABASE_URL=postgres://user@host:5432/db to run it (a fresh database is created and dropped per suite)',
    );
  }
  return url || undefined;
}

export function describeEachDriver(name: string, suite: (getStore: () => Store, ctx: DriverContext) => void): void {
  describeOn('pglite', name, suite, async () => ({ ...(await openStoreWithRaw({})), cleanup: async () => {} }));

  const url = pgTestUrl();
  if (!url) {
    describe.skip(`${name} [pg]`, () => {
      suite(notOpen, { driver: 'pg', raw: notOpen });
    });
    return;
  }
  describeOn('pg', name, suite, async () => {
    const fresh = await createFreshPgDatabase(url);
    try {
      const opened = await openStoreWithRaw({ databaseUrl: fresh.url, poolMax: 4 });
      return { ...opened, cleanup: () => fresh.drop() };
    } catch (e) {
      await fresh.drop();
      throw e;
    }
  });
}

function notOpen(): never {
  throw new Error('store used outside a test (it is opened in beforeAll)');
}

function describeOn(
  driver: DriverName,
  name: string,
  suite: (getStore: () => Store, ctx: DriverContext) => void,
  open: () => Promise<{ store: Store; raw: RawSql; cleanup: () => Promise<void> }>,
): void {
  describe(`${name} [${driver}]`, () => {
    let opened: { store: Store; raw: RawSql; cleanup: () => Promise<void> } | undefined;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      if (!opened) return;
      await opened.store.close();
      await opened.cleanup();
    });
    const getStore = () => opened?.store ?? notOpen();
    const raw: RawSql = (text, params) => (opened ? opened.raw(text, params) : notOpen());
    suite(getStore, { driver, raw });
  });
}
