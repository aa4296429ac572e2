import { PGlite, types } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PreparedPglite, withPreparedStatements } from './pglite-statements.ts';

// drizzle's pglite driver asks for these options; the prepared path must honour them like query().
const drizzleArrayMode = {
  rowMode: 'array' as const,
  parsers: { [types.TIMESTAMPTZ]: (v: string) => v },
};

describe('PGlite with prepared statements', () => {
  let pg: PGlite;
  let fast: PreparedPglite;

  beforeAll(async () => {
    pg = await PGlite.create();
    await pg.exec(`create table t (
      id uuid primary key default gen_random_uuid(), k text unique not null, n int, big bigint,
      data jsonb, bin bytea, tags text[], at timestamptz default now(), ok boolean)`);
    fast = withPreparedStatements(pg);
  });
  afterAll(() => pg.close());

  it('returns what PGlite query() returns, for every column type we store, and prepares each text once', async () => {
    const before = fast.prepared;
    const values = ['k1', 7, 9007199254740993n, { a: [1, 'ж'] }, new Uint8Array([0, 1, 254]), ['x', 'y,z'], true];
    const insert = 'insert into t (k, n, big, data, bin, tags, ok) values ($1, $2, $3, $4, $5, $6, $7) returning *';
    const inserted = await fast.query(insert, values);
    expect(inserted.rows).toHaveLength(1);
    const select = 'select * from t where k = $1';
    for (const opts of [undefined, drizzleArrayMode]) {
      const mine = await fast.query(select, ['k1'], opts);
      const theirs = await pg.query(select, ['k1'], opts);
      expect(mine.rows).toEqual(theirs.rows);
      expect(mine.fields).toEqual(theirs.fields);
    }
    expect((await fast.query(select, ['k1'])).rows[0]).toMatchObject({
      k: 'k1',
      n: 7,
      data: { a: [1, 'ж'] },
      ok: true,
    });
    // A per-query parser overrides PGlite's for its type only; every other type keeps PGlite's parser.
    const mixed = await fast.query('select at, n, data from t where k = $1', ['k1'], drizzleArrayMode);
    const [at, n, data] = mixed.rows[0] as unknown[];
    expect(typeof at).toBe('string');
    expect([n, data]).toEqual([7, { a: [1, 'ж'] }]);
    expect((await fast.query<{ at: unknown }>('select at from t where k = $1', ['k1'])).rows[0]!.at).toBeInstanceOf(
      Date,
    );
    expect(fast.prepared - before).toBe(4);
    await fast.query(select, ['nobody']);
    expect(fast.prepared - before).toBe(4);
  });

  it('counts affected rows and passes nulls', async () => {
    await fast.query('insert into t (k, n) values ($1, $2), ($3, $4)', ['a1', null, 'a2', 2]);
    const upd = await fast.query('update t set n = $1 where k like $2', [5, 'a%']);
    expect(upd.affectedRows).toBe(2);
    const rows = await fast.query<{ n: number }>('select n from t where k like $1 order by k', ['a%']);
    expect(rows.rows).toEqual([{ n: 5 }, { n: 5 }]);
  });

  it('a statement outside a transaction waits for it: it neither lands inside nor sees its writes', async () => {
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let inside = () => {};
    const started = new Promise<void>((r) => {
      inside = r;
    });
    const tx = fast.transaction(async (t) => {
      await t.query('insert into t (k) values ($1)', ['tx-row']);
      inside();
      await held;
      await t.query('select 1 as one');
      throw new Error('roll back');
    });
    await started;
    const outside = fast.query<{ c: number }>('select count(*)::int as c from t where k = $1', ['tx-row']);
    let done = false;
    void outside.then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await expect(tx).rejects.toThrow('roll back');
    expect((await outside).rows[0]?.c).toBe(0);
  });

  it('an error inside a transaction rolls it back; a statement that fails to parse is not kept', async () => {
    const before = fast.prepared;
    await expect(
      fast.transaction(async (t) => {
        await t.query('insert into t (k, n) values ($1, 1)', ['dup']);
        await t.query('insert into t (k, n) values ($1, 1)', ['dup']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await fast.query('select k from t where k = $1', ['dup'])).rows).toEqual([]);
    await expect(fast.query('select nonsense from t where', [])).rejects.toMatchObject({ code: '42601' });
    await expect(fast.query('select nonsense from t where', [])).rejects.toMatchObject({ code: '42601' });
    // The unique violation's insert and the lookup were prepared; the syntax error was not.
    expect(fast.prepared - before).toBe(2);
  });

  it('a table changed under a prepared statement: the failing run forgets it and the next one works', async () => {
    await pg.exec('create table m (a int)');
    await fast.query('insert into m (a) values ($1)', [1]);
    const text = 'select * from m';
    expect((await fast.query(text, [])).rows).toEqual([{ a: 1 }]);
    await pg.exec('alter table m add column b int default 2');
    await expect(fast.query(text, [])).rejects.toMatchObject({ code: '0A000' });
    expect((await fast.query(text, [])).rows).toEqual([{ a: 1, b: 2 }]);
  });

  it('statements it does not prepare (DDL, options drizzle never passes) still run through PGlite', async () => {
    const before = fast.prepared;
    await fast.query('create table other (x int)', []);
    await fast.query('insert into other (x) values ($1)', [3], { paramTypes: [types.INT4] });
    expect((await pg.query('select x from other')).rows).toEqual([{ x: 3 }]);
    expect(fast.prepared).toBe(before);
  });

  it('keeps at most maxStatements: the least recently used is closed, and runs again when asked', async () => {
    const small = withPreparedStatements(pg, { maxStatements: 3 });
    const q = (i: number) => `select ${i}::int as v, $1::text as k`;
    for (let i = 0; i < 3; i++) await small.query(q(i), ['a']);
    await small.query(q(0), ['a']); // 0 is now the most recently used; 1 the least
    await small.query(q(3), ['a']);
    expect(small.prepared).toBe(3);
    const names = async () =>
      (await pg.query<{ statement: string }>('select statement from pg_prepared_statements')).rows.map(
        (r) => r.statement,
      );
    const live = await names();
    expect(live).toContain(q(0));
    expect(live).not.toContain(q(1));
    expect(live.filter((t) => /^select \d::int/.test(t))).toHaveLength(3);
    expect((await small.query<{ v: number }>(q(1), ['b'])).rows).toEqual([{ v: 1, k: 'b' }]);
    expect(small.prepared).toBe(3);
  });
});
