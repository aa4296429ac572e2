import { afterEach, expect, it, vi } from 'vitest';
import type { Session } from '../../core/model.ts';
import type { NewEvent, NewSession, SessionsRepo, Store } from '../../core/ports.ts';
import { StoreQueryError } from '../db.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { makeRealm, minutesFromNow, newSession, newUser, rejectionOf, sleep, uuid } from '../testing/fixtures.ts';

/** One session with its event, through the multi-row write (what sign-in uses). */
async function createWithEvent(repo: SessionsRepo, session: NewSession, event: NewEvent) {
  const [created, ...more] = await repo.createManyWithEvents([{ session, event }]);
  expect(more).toEqual([]);
  return created as Session;
}

async function userWithRealm(s: Store) {
  const realm = await makeRealm(s);
  const user = await s.users.create(newUser(realm));
  return { realm, user };
}

describeEachDriver('sessions repository', (getStore, { driver }) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('create returns the session; findLiveByTokenHash finds it with its user', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id, { remember: true });
    const created = await s.sessions.create(input);
    expect(created).toMatchObject({ realm, userId: user.id, remember: true, revokedAt: null, ip: '192.0.2.10' });
    expect(created.expiresAt.getTime()).toBe(input.expiresAt.getTime());
    expect('tokenHash' in created).toBe(false);
    const live = await s.sessions.findLiveByTokenHash(input.tokenHash);
    expect(live?.session).toEqual(created);
    expect(live?.user).toEqual(user);
    expect('passwordHash' in (live?.user ?? {})).toBe(false);
    expect(await s.sessions.findLiveByTokenHash(Buffer.alloc(32, 7))).toBeNull();
  });

  it('a session and its event are written in one go; the event names the session', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id, { remember: true, userAgent: 'ua-session' });
    const event = {
      realm,
      kind: 'signin.succeeded' as const,
      userId: user.id,
      ip: '192.0.2.10',
      userAgent: 'ua-event',
      data: { method: 'password', remember: true },
    };
    const created = await createWithEvent(s.sessions, input, event);
    expect(created).toMatchObject({ realm, userId: user.id, remember: true, revokedAt: null, ip: '192.0.2.10' });
    expect(created.userAgent).toBe('ua-session');
    expect(created.expiresAt.getTime()).toBe(input.expiresAt.getTime());
    expect(created.idleExpiresAt.getTime()).toBe(input.idleExpiresAt.getTime());
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(created.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect('tokenHash' in created).toBe(false);
    // What it returns is what a later read finds.
    expect((await s.sessions.findLiveByTokenHash(input.tokenHash))?.session).toEqual(created);
    const [logged, ...more] = await s.events.list({ userId: user.id, limit: 10 });
    expect(more).toEqual([]);
    expect(logged).toMatchObject({
      realm,
      kind: 'signin.succeeded',
      userId: user.id,
      ip: '192.0.2.10',
      userAgent: 'ua-event',
    });
    expect(logged?.data).toEqual({ method: 'password', remember: true, session: created.id });
    // Inside a transaction too (the repositories a unit of work receives).
    const again = newSession(realm, user.id);
    const inTx = await s.transaction((tx) => createWithEvent(tx.sessions, again, { ...event, data: {} }));
    expect((await s.sessions.findLiveByTokenHash(again.tokenHash))?.session.id).toBe(inTx.id);
    expect((await s.events.list({ userId: user.id, limit: 1 }))[0]?.data).toEqual({ session: inTx.id });
  });

  it('no event is written when the session is refused', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const bad = newSession(realm, user.id, { tokenHash: Buffer.alloc(16, 1) });
    const err = await rejectionOf(
      createWithEvent(s.sessions, bad, {
        realm,
        kind: 'signin.succeeded',
        userId: user.id,
        ip: null,
        userAgent: null,
        data: {},
      }),
    );
    expect((err as StoreQueryError).constraint).toBe('sessions_token_hash_len');
    expect(await s.events.list({ userId: user.id, limit: 10 })).toEqual([]);
  });

  it('createManyWithEvents: several sessions and their events in one statement, answered in order', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const other = await s.users.create(newUser(realm));
    const inputs = [
      newSession(realm, user.id, { remember: true, userAgent: 'ua-0' }),
      newSession(realm, other.id, { userAgent: null, ip: null }),
      newSession(realm, user.id, { userAgent: 'ua-2' }),
    ];
    const event = (userId: string, n: number) => ({
      realm,
      kind: 'signin.succeeded' as const,
      userId,
      ip: '192.0.2.10',
      userAgent: `ua-event-${n}`,
      data: { method: 'password', n },
    });
    const created = await s.sessions.createManyWithEvents(
      inputs.map((session, n) => ({ session, event: event(session.userId, n) })),
    );
    expect(created.map((c) => [c.userId, c.userAgent, c.remember])).toEqual(
      inputs.map((i) => [i.userId, i.userAgent, i.remember]),
    );
    expect(new Set(created.map((c) => c.id)).size).toBe(3);
    // Each answer is what a read finds behind its own token.
    for (const [i, input] of inputs.entries())
      expect((await s.sessions.findLiveByTokenHash(input.tokenHash))?.session).toEqual(created[i]);
    // Each event names its own session.
    const logged = await s.events.list({ realm, kind: 'signin.succeeded', limit: 10 });
    expect(logged.map((e) => [e.data.n, e.data.session, e.userAgent]).sort()).toEqual(
      created.map((c, n) => [n, c.id, `ua-event-${n}`]),
    );
    expect(await s.sessions.createManyWithEvents([])).toEqual([]);

    // One refused session takes its whole statement down: no session and no event of it is written.
    const good = newSession(realm, user.id);
    const bad = newSession(realm, user.id, { tokenHash: Buffer.alloc(16, 1) });
    const err = await rejectionOf(
      s.sessions.createManyWithEvents([
        { session: good, event: event(user.id, 7) },
        { session: bad, event: event(user.id, 8) },
      ]),
    );
    expect((err as StoreQueryError).constraint).toBe('sessions_token_hash_len');
    expect(await s.sessions.findLiveByTokenHash(good.tokenHash)).toBeNull();
    expect(await s.events.list({ realm, kind: 'signin.succeeded', limit: 10 })).toHaveLength(3);
  });

  it('a session past expires_at, past idle_expires_at, or revoked is not found', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const expired = newSession(realm, user.id, { expiresAt: minutesFromNow(-1), idleExpiresAt: minutesFromNow(-1) });
    const idle = newSession(realm, user.id, { idleExpiresAt: minutesFromNow(-1) });
    const absolute = newSession(realm, user.id, { expiresAt: minutesFromNow(-1) });
    const revoked = newSession(realm, user.id);
    for (const x of [expired, idle, absolute, revoked]) await s.sessions.create(x);
    await s.sessions.revokeByTokenHash(revoked.tokenHash);
    for (const x of [expired, idle, absolute, revoked]) {
      expect(await s.sessions.findLiveByTokenHash(x.tokenHash)).toBeNull();
    }
  });

  it('a session of a locked or disabled user is not found, and is again once reactivated', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id);
    await s.sessions.create(input);
    for (const status of ['locked', 'disabled'] as const) {
      await s.users.setStatus(user.id, status);
      expect(await s.sessions.findLiveByTokenHash(input.tokenHash)).toBeNull();
    }
    await s.users.setStatus(user.id, 'active');
    expect(await s.sessions.findLiveByTokenHash(input.tokenHash)).not.toBeNull();
  });

  it.runIf(driver === 'pg')('expiry uses the database clock, not the application clock', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id);
    await s.sessions.create(input);
    // Only Date is faked (PGlite's clock is the process clock, hence PostgreSQL only): a node whose
    // clock runs a year ahead must still see the session as live.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() + 365 * 24 * 3600_000));
    expect(await s.sessions.findLiveByTokenHash(input.tokenHash)).not.toBeNull();
  });

  it('the database refuses a token hash that is not 32 bytes and a realm other than the user’s', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const short = await rejectionOf(s.sessions.create(newSession(realm, user.id, { tokenHash: Buffer.alloc(16, 1) })));
    expect((short as StoreQueryError).constraint).toBe('sessions_token_hash_len');
    const other = await makeRealm(s);
    const wrongRealm = await rejectionOf(s.sessions.create(newSession(other, user.id)));
    expect(wrongRealm).toBeInstanceOf(StoreQueryError);
    expect((wrongRealm as StoreQueryError).code).toBe('23503');
  });

  it('touch slides the idle expiry forward and never back', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id, { idleExpiresAt: minutesFromNow(5) });
    const created = await s.sessions.create(input);
    const seen = new Date(Date.now() + 1000);
    await s.sessions.touch(created.id, seen, minutesFromNow(60));
    const after = (await s.sessions.findLiveByTokenHash(input.tokenHash))?.session;
    expect(after?.lastSeenAt.getTime()).toBe(seen.getTime());
    expect(after?.idleExpiresAt.getTime()).toBeGreaterThan(minutesFromNow(55).getTime());
    // A stale write from another node arrives late: it must not shorten the session.
    await s.sessions.touch(created.id, created.lastSeenAt, minutesFromNow(1));
    const again = (await s.sessions.findLiveByTokenHash(input.tokenHash))?.session;
    expect(again?.idleExpiresAt.getTime()).toBe(after?.idleExpiresAt.getTime());
    expect(again?.lastSeenAt.getTime()).toBe(seen.getTime());
    await s.sessions.touch('not-a-uuid', seen, minutesFromNow(5)); // ignored, no error
  });

  it('touch does not revive a revoked session', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id);
    const created = await s.sessions.create(input);
    await s.sessions.revoke(user.id, created.id);
    await s.sessions.touch(created.id, new Date(), minutesFromNow(60));
    expect(await s.sessions.findLiveByTokenHash(input.tokenHash)).toBeNull();
  });

  it('listLiveForUser lists only the live sessions of that user, most recently seen first', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const other = await s.users.create(newUser(realm));
    const a = await s.sessions.create(newSession(realm, user.id));
    const b = await s.sessions.create(newSession(realm, user.id));
    await s.sessions.touch(a.id, new Date(Date.now() + 5000), minutesFromNow(30));
    const gone = await s.sessions.create(newSession(realm, user.id));
    await s.sessions.revoke(user.id, gone.id);
    await s.sessions.create(newSession(realm, user.id, { expiresAt: minutesFromNow(-1) }));
    await s.sessions.create(newSession(realm, other.id));
    expect((await s.sessions.listLiveForUser(user.id)).map((x) => x.id)).toEqual([a.id, b.id]);
    expect(await s.sessions.listLiveForUser('nope')).toEqual([]);
  });

  it('revoke ends only a live session of that user', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const mallory = await s.users.create(newUser(realm));
    const input = newSession(realm, user.id);
    const created = await s.sessions.create(input);
    expect(await s.sessions.revoke(mallory.id, created.id)).toBe(false);
    expect(await s.sessions.findLiveByTokenHash(input.tokenHash)).not.toBeNull();
    expect(await s.sessions.revoke(user.id, uuid())).toBe(false);
    expect(await s.sessions.revoke(user.id, 'garbage')).toBe(false);
    expect(await s.sessions.revoke(user.id, created.id)).toBe(true);
    expect(await s.sessions.revoke(user.id, created.id)).toBe(false);
    expect(await s.sessions.findLiveByTokenHash(input.tokenHash)).toBeNull();
  });

  it('revokeByTokenHash returns the ended session once', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const input = newSession(realm, user.id);
    const created = await s.sessions.create(input);
    const ended = await s.sessions.revokeByTokenHash(input.tokenHash);
    expect(ended?.id).toBe(created.id);
    expect(ended?.revokedAt).toBeInstanceOf(Date);
    expect(await s.sessions.revokeByTokenHash(input.tokenHash)).toBeNull();
  });

  it('revokeAllForUser ends every live session but the one kept, and counts them', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const keep = newSession(realm, user.id);
    const kept = await s.sessions.create(keep);
    const others = [newSession(realm, user.id), newSession(realm, user.id)];
    for (const o of others) await s.sessions.create(o);
    const neighbour = await s.users.create(newUser(realm));
    const theirs = newSession(realm, neighbour.id);
    await s.sessions.create(theirs);
    expect(await s.sessions.revokeAllForUser(user.id, kept.id)).toBe(2);
    expect((await s.sessions.listLiveForUser(user.id)).map((x) => x.id)).toEqual([kept.id]);
    expect(await s.sessions.findLiveByTokenHash(theirs.tokenHash)).not.toBeNull();
    expect(await s.sessions.revokeAllForUser(user.id)).toBe(1);
    expect(await s.sessions.revokeAllForUser(user.id)).toBe(0);
  });

  it('revokedSince returns the sessions revoked from that time on, with their token hashes', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const early = newSession(realm, user.id);
    await s.sessions.create(early);
    await s.sessions.revokeByTokenHash(early.tokenHash);
    await sleep(20);
    const mark = (await s.sessions.revokedSince(new Date(0))).at(-1)?.revokedAt ?? new Date();
    const since = new Date(mark.getTime() + 1);
    await sleep(20);
    const late = newSession(realm, user.id);
    const created = await s.sessions.create(late);
    await s.sessions.revokeByTokenHash(late.tokenHash);
    const got = await s.sessions.revokedSince(since);
    expect(got.map((x) => x.id)).toEqual([created.id]);
    expect(Buffer.isBuffer(got[0]?.tokenHash)).toBe(true);
    expect(got[0]?.tokenHash.equals(late.tokenHash)).toBe(true);
  });

  it('deleteExpired removes sessions ended before the cut-off and keeps live ones', async () => {
    const s = getStore();
    const { realm, user } = await userWithRealm(s);
    const live = newSession(realm, user.id);
    await s.sessions.create(live);
    const old = newSession(realm, user.id, { expiresAt: minutesFromNow(-120), idleExpiresAt: minutesFromNow(-120) });
    const idle = newSession(realm, user.id, { idleExpiresAt: minutesFromNow(-120) });
    const recent = newSession(realm, user.id, { expiresAt: minutesFromNow(-1), idleExpiresAt: minutesFromNow(-1) });
    for (const x of [old, idle, recent]) await s.sessions.create(x);
    const n = await s.sessions.deleteExpired(minutesFromNow(-60));
    expect(n).toBeGreaterThanOrEqual(2);
    const left = await s.sessions.deleteExpired(minutesFromNow(-60));
    expect(left).toBe(0);
    expect(await s.sessions.findLiveByTokenHash(live.tokenHash)).not.toBeNull();
    // Ended only a minute ago: kept, so revocation polling and support can still see it.
    expect(await s.sessions.deleteExpired(minutesFromNow(-30))).toBe(0);
    expect(await s.sessions.deleteExpired(minutesFromNow(1))).toBeGreaterThanOrEqual(1);
  });
});
