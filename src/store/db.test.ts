import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { asDate, plainInsert } from './db.ts';
import { events } from './schema.ts';

const dialect = new PgDialect();
const insert = plainInsert(events, [events.realm, events.kind, events.data]);

describe('plainInsert', () => {
  it('builds one parameterized multi-row INSERT with the schema names, values in order', () => {
    const q = dialect.sqlToQuery(
      insert(
        [
          ['main', 'a', '{}'],
          [null, "b'); drop table events; --", '{"x":1}'],
        ],
        'returning id',
      ),
    );
    expect(q.sql).toBe('insert into "events" ("realm", "kind", "data") values ($1, $2, $3), ($4, $5, $6) returning id');
    // Values travel as parameters, never in the text.
    expect(q.params).toEqual(['main', 'a', '{}', null, "b'); drop table events; --", '{"x":1}']);
  });

  it('turns undefined into NULL and a Date into its ISO string; passes a sql expression through', () => {
    const at = new Date('2026-12-04T07:55:14.123Z');
    const q = dialect.sqlToQuery(insert([[undefined, at, sql`now()`]]));
    expect(q.sql).toBe('insert into "events" ("realm", "kind", "data") values ($1, $2, now())');
    expect(q.params).toEqual([null, '2026-12-04T07:55:14.123Z']);
  });

  it('refuses arrays (drizzle would splice them into the text) and rows of the wrong width', () => {
    expect(() => insert([['main', ['a', 'b'], '{}']])).toThrow(/array/);
    expect(() => insert([['main', 'a']])).toThrow(/2 values for 3 columns/);
  });
});

describe('asDate', () => {
  it('reads a Date or the database text of a timestamptz', () => {
    const d = new Date('2026-12-04T07:55:14.123Z');
    expect(asDate(d)).toBe(d);
    expect(asDate('2026-12-04 07:55:14.123+00').toISOString()).toBe('2026-12-04T07:55:14.123Z');
    expect(asDate('2026-12-04 10:55:14.123456+03').toISOString()).toBe('2026-12-04T07:55:14.123Z');
  });
});
