// The session service's cache and expiry rules, against an in-memory repository.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Session, User } from '../model.ts';
import type { NewEvent, NewSession, SessionsRepo, SessionWithUser } from '../ports.ts';
import { defaultRealmPolicy } from '../realm/policy.ts';
import { testUser } from '../testing/users.ts';
import { createSessionService, sessionLifetimes } from './session-service.ts';

const policy = defaultRealmPolicy('main', 'http://localhost:8080');
const user: User = testUser();
const ctx = { ip: '127.0.0.1', userAgent: 'test', locale: 'ru' as const };
const signedIn = { kind: 'signin.succeeded' as const, data: { method: 'password' } };

function fakeRepo() {
  const rows: (Session & { tokenHash: Buffer })[] = [];
  const events: NewEvent[] = [];
  /** The sizes of the multi-row writes, in order; a write containing `refuse` fails as a whole. */
  const writes: number[] = [];
  let refuse: string | undefined;
  let lookups = 0;
  const repo: SessionsRepo = {
    async createManyWithEvents(items) {
      writes.push(items.length);
      if (items.some((i) => i.session.userAgent === refuse)) throw new Error('refused');
      const out: Session[] = [];
      for (const { session: s, event: e } of items) {
        const session = await repo.create(s);
        events.push({ ...e, data: { ...e.data, session: session.id } });
        out.push(session);
      }
      return out;
    },
    async create(s: NewSession) {
      const now = new Date();
      const row = {
        id: randomUUID(),
        realm: s.realm,
        userId: s.userId,
        remember: s.remember,
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt: s.idleExpiresAt,
        expiresAt: s.expiresAt,
        revokedAt: null,
        ip: s.ip,
        userAgent: s.userAgent,
        tokenHash: s.tokenHash,
      };
      rows.push(row);
      return { ...row };
    },
    async findLiveByTokenHash(h): Promise<SessionWithUser | null> {
      lookups++;
      const r = rows.find((x) => x.tokenHash.equals(h) && !x.revokedAt && x.expiresAt > new Date());
      return r ? { session: { ...r }, user } : null;
    },
    async touch() {},
    async listLiveForUser(id) {
      return rows.filter((r) => r.userId === id && !r.revokedAt);
    },
    async revoke(userId, id) {
      const r = rows.find((x) => x.id === id && x.userId === userId && !x.revokedAt);
      if (r) r.revokedAt = new Date();
      return !!r;
    },
    async revokeByTokenHash(h) {
      const r = rows.find((x) => x.tokenHash.equals(h));
      if (r) r.revokedAt = new Date();
      return r ?? null;
    },
    async revokeAllForUser(id) {
      let n = 0;
      for (const r of rows)
        if (r.userId === id && !r.revokedAt) {
          r.revokedAt = new Date();
          n++;
        }
      return n;
    },
    async revokedSince() {
      return [];
    },
    async deleteExpired() {
      return 0;
    },
  };
  const refuseAgent = (ua: string) => {
    refuse = ua;
  };
  return { repo, rows, events, writes, refuseAgent, lookups: () => lookups };
}

const noEvents = { append: async () => {}, appendMany: async () => {}, list: async () => [] };
const random = { bytes: (n: number) => randomBytes(n), uuid: () => randomUUID() };
const clock = { now: () => new Date() };

describe('session service', () => {
  it('caches lookups for cacheMs: one database read for many whoami calls', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 60_000 });
    const { token } = await s.issue(user, policy, false, ctx, signedIn);
    for (let i = 0; i < 50; i++) expect((await s.authenticate(token))?.user.id).toBe(user.id);
    expect(f.lookups()).toBe(1);
  });

  it('issue writes the session together with its event, which names the session and its remember', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 0 });
    const { session } = await s.issue(user, policy, true, ctx, signedIn);
    expect(f.events).toEqual([
      {
        realm: 'main',
        kind: 'signin.succeeded',
        userId: user.id,
        ip: '127.0.0.1',
        userAgent: 'test',
        data: { method: 'password', remember: true, session: session.id },
      },
    ]);
  });

  it('sign-ins finishing together are written in one statement, each with its own session and event', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 0 });
    const issued = await Promise.all([0, 1, 2].map(() => s.issue(user, policy, false, ctx, signedIn)));
    expect(f.writes).toEqual([3]);
    expect(new Set(issued.map((i) => i.session.id)).size).toBe(3);
    expect(new Set(issued.map((i) => i.token)).size).toBe(3);
    expect(f.events.map((e) => e.data?.session)).toEqual(issued.map((i) => i.session.id));
  });

  it('while moreComing() says so, a session write waits issueWaitMs for others; otherwise at once', async () => {
    const f = fakeRepo();
    let coming = false;
    const s = createSessionService({
      sessions: f.repo,
      events: noEvents,
      clock,
      random,
      cacheMs: 0,
      issueWaitMs: 60,
      moreComing: () => coming,
    });
    let t = performance.now();
    await s.issue(user, policy, false, ctx, signedIn);
    expect(performance.now() - t).toBeLessThan(50);
    // Others are being hashed: the write waits, and a sign-in finishing 10 ms later shares it.
    coming = true;
    t = performance.now();
    const first = s.issue(user, policy, false, ctx, signedIn);
    await new Promise((r) => setTimeout(r, 10));
    await Promise.all([first, s.issue(user, policy, false, ctx, signedIn)]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(55);
    expect(f.writes).toEqual([1, 2]);
  });

  it('a session the store refuses fails only its own sign-in, not the others written with it', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 0 });
    f.refuseAgent('bad');
    const out = await Promise.allSettled([
      s.issue(user, policy, false, ctx, signedIn),
      s.issue(user, policy, false, { ...ctx, userAgent: 'bad' }, signedIn),
      s.issue(user, policy, false, ctx, signedIn),
    ]);
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(f.events).toHaveLength(2);
  });

  it('a revocation on this node takes effect at once, cache or not', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 60_000 });
    const a = await s.issue(user, policy, false, ctx, signedIn);
    const b = await s.issue(user, policy, false, ctx, signedIn);
    await s.authenticate(a.token);
    await s.authenticate(b.token);
    expect(await s.revoke(user.id, a.session.id)).toBe(true);
    expect(await s.authenticate(a.token)).toBeNull();
    expect(await s.authenticate(b.token)).not.toBeNull();
    await s.revokeAllForUser(user.id);
    expect(await s.authenticate(b.token)).toBeNull();
  });

  it('another node sees a revocation within cacheMs (the stated bound)', async () => {
    const f = fakeRepo();
    const nodeA = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 100 });
    const nodeB = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 100 });
    const { token } = await nodeA.issue(user, policy, false, ctx, signedIn);
    expect(await nodeB.authenticate(token)).not.toBeNull();
    await nodeA.revokeToken(token);
    const t0 = Date.now();
    while ((await nodeB.authenticate(token)) !== null) await new Promise((r) => setTimeout(r, 10));
    expect(Date.now() - t0).toBeLessThanOrEqual(150);
  });

  it('a cached session never outlives its own expiry', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 60_000 });
    const { token, session } = await s.issue(user, policy, false, ctx, signedIn);
    await s.authenticate(token);
    const row = f.rows.find((r) => r.id === session.id)!;
    row.expiresAt = new Date(Date.now() - 1);
    const later = createSessionService({
      sessions: f.repo,
      events: noEvents,
      clock: { now: () => new Date(Date.now() + 25 * 3600_000) },
      random,
      cacheMs: 60_000,
    });
    expect(await later.authenticate(token)).toBeNull();
  });

  it('junk tokens never reach the repository', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 1000 });
    for (const t of [undefined, '', 'x', '../../etc', 'a'.repeat(10_000)]) expect(await s.authenticate(t)).toBeNull();
    expect(f.lookups()).toBe(0);
  });

  it('lifetimes: no remember → absolute hours and idle window; remember → days, idle = whole life', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const plain = sessionLifetimes(policy, false, now);
    expect(plain.remember).toBe(false);
    expect(plain.expiresAt.getTime() - now.getTime()).toBe(policy.sessions.absoluteHours * 3600_000);
    expect(plain.idleExpiresAt.getTime() - now.getTime()).toBe(
      Math.min(policy.sessions.idleMinutes * 60_000, policy.sessions.absoluteHours * 3600_000),
    );
    const rem = sessionLifetimes(policy, true, now);
    expect(rem.expiresAt.getTime() - now.getTime()).toBe(policy.sessions.rememberMeDays * 86_400_000);
    expect(rem.idleExpiresAt).toEqual(rem.expiresAt);
    const off = sessionLifetimes({ ...policy, sessions: { ...policy.sessions, rememberMeDays: 0 } }, true, now);
    expect(off.remember).toBe(false);
  });
});

describe('session cache under concurrency', () => {
  it('concurrent requests for one expired cache entry share one database lookup', async () => {
    const f = fakeRepo();
    const s = createSessionService({ sessions: f.repo, events: noEvents, clock, random, cacheMs: 60_000 });
    const { token } = await s.issue(user, policy, false, ctx, signedIn);
    const all = await Promise.all(Array.from({ length: 20 }, () => s.authenticate(token)));
    expect(all.every((x) => x?.user.id === user.id)).toBe(true);
    expect(f.lookups()).toBe(1);
  });

  it('a lookup that started before a revocation does not put the session back in the cache', async () => {
    const f = fakeRepo();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow = {
      ...f.repo,
      findLiveByTokenHash: async (h: Buffer) => {
        const v = await f.repo.findLiveByTokenHash(h);
        await gate;
        return v;
      },
    };
    const s = createSessionService({ sessions: slow, events: noEvents, clock, random, cacheMs: 60_000 });
    const { token, session } = await s.issue(user, policy, false, ctx, signedIn);
    const inFlight = s.authenticate(token);
    await new Promise((r) => setTimeout(r, 5));
    await s.revoke(user.id, session.id);
    release();
    await inFlight;
    expect(await s.authenticate(token)).toBeNull();
  });
});
