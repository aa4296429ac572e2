import { expect, it } from 'vitest';
import type { DostupError } from '../../core/errors.ts';
import type { NewEvent } from '../../core/ports.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { makeRealm, rejectionOf, uuid } from '../testing/fixtures.ts';

const ev = (realm: string | null, overrides: Partial<NewEvent> = {}): NewEvent => ({
  realm,
  kind: 'signin.succeeded',
  userId: null,
  ip: '198.51.100.7',
  userAgent: 'ua',
  ...overrides,
});

describeEachDriver('events repository', (getStore, { raw }) => {
  it('append then list returns the events newest first with every field', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const user = uuid();
    await s.events.append(ev(realm, { kind: 'user.created', userId: user, data: { by: 'admin', n: 1 } }));
    await s.events.append(ev(realm, { kind: 'signin.failed', userId: user }));
    const list = await s.events.list({ realm, limit: 10 });
    expect(list.map((e) => e.kind)).toEqual(['signin.failed', 'user.created']);
    expect(list[1]).toMatchObject({
      realm,
      userId: user,
      ip: '198.51.100.7',
      userAgent: 'ua',
      data: { by: 'admin', n: 1 },
    });
    expect(list[0]?.data).toEqual({});
    expect(list[0]?.id).toMatch(/^\d+$/);
    expect(BigInt(list[0]?.id ?? 0)).toBeGreaterThan(BigInt(list[1]?.id ?? 0));
    expect(list[0]?.at).toBeInstanceOf(Date);
  });

  it('list filters by realm, user and kind; events outlive users (no foreign key)', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const other = await makeRealm(s);
    const ghost = uuid(); // never existed as a user
    await s.events.append(ev(realm, { userId: ghost, kind: 'signin.failed' }));
    await s.events.append(ev(realm, { userId: ghost, kind: 'signin.succeeded' }));
    await s.events.append(ev(other, { userId: ghost, kind: 'signin.failed' }));
    await s.events.append(ev(null, { kind: 'realm.applied', data: { realm } }));
    expect(await s.events.list({ realm, limit: 10 })).toHaveLength(2);
    expect(await s.events.list({ userId: ghost, limit: 10 })).toHaveLength(3);
    expect(await s.events.list({ realm, userId: ghost, kind: 'signin.failed', limit: 10 })).toHaveLength(1);
    expect(await s.events.list({ userId: 'not-a-uuid', limit: 10 })).toEqual([]);
    const system = await s.events.list({ kind: 'realm.applied', limit: 1000 });
    expect(system.some((e) => e.realm === null && e.data.realm === realm)).toBe(true);
  });

  it('list pages with a keyset cursor (`before` = last id seen)', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    for (let i = 0; i < 7; i++) await s.events.append(ev(realm, { data: { i } }));
    const seen: number[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await s.events.list({ realm, limit: 3, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.data.i as number));
      before = page.at(-1)?.id;
    }
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);
  });

  it('appendMany logs several events in one statement, in the order given', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    await s.events.appendMany([0, 1, 2].map((i) => ev(realm, { data: { i } })));
    await s.events.appendMany([]);
    const listed = await s.events.list({ realm, limit: 10 });
    expect(listed.map((e) => e.data.i)).toEqual([2, 1, 0]);
  });

  it('list clamps the limit and refuses a malformed cursor', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    for (let i = 0; i < 2; i++) await s.events.append(ev(realm));
    expect(await s.events.list({ realm, limit: 0 })).toHaveLength(1);
    for (const before of ['abc', '-1', '1 or 1=1', '99999999999999999999']) {
      const err = await rejectionOf(s.events.list({ realm, limit: 5, before }));
      expect((err as DostupError).code).toBe('VALIDATION_FAILED');
    }
  });

  it('the database refuses to UPDATE, DELETE or TRUNCATE events', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    await s.events.append(ev(realm, { data: { original: true } }));
    const [e] = await s.events.list({ realm, limit: 1 });
    const id = e?.id ?? '0';
    await expect(raw(`update events set data = '{"forged":true}' where id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(raw('delete from events where id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(raw('truncate events')).rejects.toThrow(/append-only/);
    const [after] = await s.events.list({ realm, limit: 1 });
    expect(after?.data).toEqual({ original: true });
  });
});
