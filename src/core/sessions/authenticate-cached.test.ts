// authenticateCached(): the promise-free hot path of `whoami`. It must give exactly what authenticate()
// would, or `undefined` ("ask the database"), never a stale or revoked session.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Session, User } from '../model.ts';
import type { SessionsRepo, SessionWithUser } from '../ports.ts';
import { testUser } from '../testing/users.ts';
import { createSessionService } from './session-service.ts';
import { hashSessionToken, newSessionToken } from './tokens.ts';

const random = { bytes: (n: number) => randomBytes(n), uuid: () => randomUUID() };
const noEvents = { append: async () => {}, appendMany: async () => {}, list: async () => [] };
const HOUR = 3_600_000;

const userRow = (): User => testUser();

/** Only what authentication and revocation use; sessions are put in by `add`, not by issue(). */
function fakeStore() {
  const rows: (Session & { tokenHash: Buffer; user: User })[] = [];
  let lookups = 0;
  const touches: { id: string; lastSeenAt: Date; idleExpiresAt: Date }[] = [];
  const repo = {
    async findLiveByTokenHash(h: Buffer): Promise<SessionWithUser | null> {
      lookups++;
      const r = rows.find((x) => x.tokenHash.equals(h) && !x.revokedAt);
      if (!r) return null;
      const { tokenHash: _h, user, ...session } = r;
      // A new object on every lookup, as the real repository returns.
      return { session: { ...session }, user: { ...user } };
    },
    async touch(id: string, lastSeenAt: Date, idleExpiresAt: Date) {
      touches.push({ id, lastSeenAt, idleExpiresAt });
    },
    async revoke(userId: string, id: string) {
      const r = rows.find((x) => x.id === id && x.userId === userId && !x.revokedAt);
      if (r) r.revokedAt = new Date();
      return !!r;
    },
    async revokeByTokenHash(h: Buffer) {
      const r = rows.find((x) => x.tokenHash.equals(h) && !x.revokedAt);
      if (r) r.revokedAt = new Date();
      return r ?? null;
    },
    async revokeAllForUser(userId: string) {
      const live = rows.filter((r) => r.userId === userId && !r.revokedAt);
      for (const r of live) r.revokedAt = new Date();
      return live.length;
    },
  } as Partial<SessionsRepo> as SessionsRepo;

  function add(user: User, now = new Date()) {
    const token = newSessionToken(random);
    rows.push({
      id: randomUUID(),
      realm: user.realm,
      userId: user.id,
      remember: false,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: new Date(now.getTime() + HOUR),
      expiresAt: new Date(now.getTime() + 24 * HOUR),
      revokedAt: null,
      ip: null,
      userAgent: null,
      tokenHash: hashSessionToken(token),
      user,
    });
    return token;
  }
  return { repo, rows, add, touches, lookups: () => lookups };
}

function service(f: ReturnType<typeof fakeStore>, opts: { cacheMs?: number; now?: () => Date } = {}) {
  return createSessionService({
    sessions: f.repo,
    events: noEvents,
    clock: { now: opts.now ?? (() => new Date()) },
    random,
    cacheMs: opts.cacheMs ?? 60_000,
  });
}

describe('authenticateCached', () => {
  it('is undefined until a lookup filled the cache, then the very object authenticate() returned', async () => {
    const f = fakeStore();
    const s = service(f);
    const token = f.add(userRow());
    expect(s.authenticateCached(token)).toBeUndefined();
    const found = await s.authenticate(token);
    expect(found).not.toBeNull();
    for (let i = 0; i < 10; i++) expect(s.authenticateCached(token)).toBe(found);
    expect(f.lookups()).toBe(1);
  });

  it('junk tokens are null at once, without the cache or the database', () => {
    const f = fakeStore();
    const s = service(f);
    for (const t of [undefined, '', 'x', '../../etc', 'a'.repeat(10_000)]) expect(s.authenticateCached(t)).toBeNull();
    expect(f.lookups()).toBe(0);
  });

  it('an unknown token the database already denied stays denied from the cache (null, not undefined)', async () => {
    const f = fakeStore();
    const s = service(f);
    const unknown = newSessionToken(random);
    expect(await s.authenticate(unknown)).toBeNull();
    expect(s.authenticateCached(unknown)).toBeNull();
    expect(f.lookups()).toBe(1);
  });

  it('sign-out, revoke, revoke-all and forgetUser take effect at once: the cache no longer answers', async () => {
    const f = fakeStore();
    const s = service(f);
    const user = userRow();
    const [a, b, c, d] = [f.add(user), f.add(user), f.add(user), f.add(user)];
    for (const t of [a, b, c, d]) await s.authenticate(t);

    await s.signOut(a, { ip: null, userAgent: null });
    expect(s.authenticateCached(a)).toBeUndefined();
    expect(await s.authenticate(a)).toBeNull();

    const bSession = (await s.authenticate(b))!.session;
    await s.revoke(user.id, bSession.id);
    expect(s.authenticateCached(b)).toBeUndefined();
    expect(await s.authenticate(b)).toBeNull();

    // forgetUser (rights or status changed): the next answer is a new lookup, hence a new object.
    const before = s.authenticateCached(c);
    s.forgetUser(user.id);
    expect(s.authenticateCached(c)).toBeUndefined();
    const after = await s.authenticate(c);
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);

    await s.revokeAllForUser(user.id);
    expect(s.authenticateCached(c)).toBeUndefined();
    expect(s.authenticateCached(d)).toBeUndefined();
    expect(await s.authenticate(d)).toBeNull();
  });

  it('an entry older than cacheMs is not trusted: undefined, and the database is asked again', async () => {
    const f = fakeStore();
    const s = service(f, { cacheMs: 30 });
    const token = f.add(userRow());
    const first = await s.authenticate(token);
    expect(s.authenticateCached(token)).toBe(first);
    await new Promise((r) => setTimeout(r, 60));
    expect(s.authenticateCached(token)).toBeUndefined();
    const second = await s.authenticate(token);
    expect(second).not.toBe(first);
    expect(f.lookups()).toBe(2);
  });

  it('with the cache off (cacheMs 0) it always defers to the database', async () => {
    const f = fakeStore();
    const s = service(f, { cacheMs: 0 });
    const token = f.add(userRow());
    expect(await s.authenticate(token)).not.toBeNull();
    expect(s.authenticateCached(token)).toBeUndefined();
  });

  it('a cached session past its expiry or idle expiry is null, without waiting for the cache entry to go', async () => {
    const f = fakeStore();
    let now = Date.now();
    const s = service(f, { now: () => new Date(now) });
    const token = f.add(userRow(), new Date(now));
    expect(await s.authenticate(token)).not.toBeNull();
    now += HOUR + 1; // past idleExpiresAt (one hour after the last use)
    expect(s.authenticateCached(token)).toBeNull();
    expect(f.lookups()).toBe(1);
  });

  it('slides the idle expiry like authenticate(): at most once a minute, on the cached object first', async () => {
    const f = fakeStore();
    let now = Date.now();
    const s = service(f, { now: () => new Date(now) });
    const token = f.add(userRow(), new Date(now));
    const found = (await s.authenticate(token))!;
    const idleBefore = found.session.idleExpiresAt.getTime();
    now += 30_000;
    s.authenticateCached(token);
    expect(f.touches).toHaveLength(0);
    now += 31_000;
    expect(s.authenticateCached(token)).toBe(found);
    expect(f.touches).toHaveLength(1);
    expect(found.session.lastSeenAt.getTime()).toBe(now);
    expect(found.session.idleExpiresAt.getTime()).toBe(idleBefore + 61_000);
    s.authenticateCached(token);
    expect(f.touches).toHaveLength(1);
  });
});
