// Sessions: issue, authenticate (the `whoami` hot path), list, revoke.
//
// Hot path: a node keeps each looked-up session in memory for at most `cacheMs` (default 2 s), so a
// busy portal calling `whoami` on every page costs one SHA-256 and one map lookup. The price is a
// stated bound: a session revoked on another node keeps working there for at most `cacheMs`
// (revocations on this node take effect at once). Expiry is re-checked on every hit, so a cached
// session never outlives its own `expiresAt`/`idleExpiresAt`.

import { createBatcher } from '../batching.ts';
import type { EventKind, RequestContext, Session, User } from '../model.ts';
import type { Clock, EventsRepo, NewEvent, NewSession, Random, SessionsRepo, SessionWithUser } from '../ports.ts';
import type { RealmPolicy } from '../realm/policy-schema.ts';
import { hashSessionToken, isWellFormedToken, newSessionToken, sessionTokenKey } from './tokens.ts';

export interface SessionServiceDeps {
  sessions: SessionsRepo;
  /** Sign-out and ended sessions are written to the event log here, once for every adapter. */
  events: EventsRepo;
  clock: Clock;
  random: Random;
  /** How long a cached lookup may be trusted (ms); 0 disables the cache. */
  cacheMs: number;
  /** At most this many cached sessions per node. */
  cacheMax?: number;
  onError?: (e: unknown) => void;
  /**
   * Group commit of sign-ins (see below): how long a session write waits for others to join it
   * while `moreComing()` says so (ms). 0 writes each at once.
   */
  issueWaitMs?: number;
  /** True while other sign-ins are about to finish (their passwords are being hashed). */
  moreComing?: () => boolean;
}

/** The realm policy of a session's realm (for its idle window), when the caller knows it. */
type PolicyOf = (realm: string) => RealmPolicy | undefined;

/** Slide the idle expiry in the database at most this often per session (not on every request). */
const TOUCH_EVERY_MS = 60_000;

interface CacheEntry {
  value: SessionWithUser | null;
  until: number;
}

export interface IssuedSession {
  token: string;
  session: Session;
}

/** The audit event of the sign-in a session is issued for; `data` gets `remember` and `session` added. */
export interface IssueEvent {
  kind: EventKind;
  data: Record<string, unknown>;
}

export function sessionLifetimes(policy: RealmPolicy, remember: boolean, now: Date) {
  const s = policy.sessions;
  const rememberOn = remember && s.rememberMeDays > 0;
  const expiresAt = new Date(
    now.getTime() + (rememberOn ? s.rememberMeDays * 86_400_000 : s.absoluteHours * 3_600_000),
  );
  // A remembered session is meant to survive days without a visit, so its idle window is its whole life.
  const idle = rememberOn ? expiresAt : new Date(Math.min(expiresAt.getTime(), now.getTime() + s.idleMinutes * 60_000));
  return { remember: rememberOn, expiresAt, idleExpiresAt: idle };
}

export function createSessionService(deps: SessionServiceDeps) {
  const cache = new Map<string, CacheEntry>();
  // When a cached entry runs out, all concurrent requests for that token share ONE database lookup
  // (otherwise a busy token sends a burst of identical reads, and each would also slide the idle expiry).
  const pending = new Map<string, Promise<SessionWithUser | null>>();
  // Bumped by every revocation on this node: a lookup that started before it must not cache what it read.
  let generation = 0;
  const cacheMax = deps.cacheMax ?? 100_000;

  const remember = (key: string, value: SessionWithUser | null) => {
    if (deps.cacheMs <= 0) return;
    if (cache.size >= cacheMax) {
      // Drop the oldest tenth: Map iterates in insertion order.
      let n = Math.ceil(cacheMax / 10);
      for (const k of cache.keys()) {
        cache.delete(k);
        if (--n <= 0) break;
      }
    }
    cache.set(key, { value, until: Date.now() + deps.cacheMs });
  };

  const forget = (pred: (v: SessionWithUser) => boolean) => {
    for (const [k, e] of cache) if (e.value && pred(e.value)) cache.delete(k);
    // A lookup in flight may have read the row before the revocation: don't let it fill the cache.
    generation++;
    pending.clear();
  };

  const live = (s: Session, now: number) =>
    s.revokedAt === null && s.expiresAt.getTime() > now && s.idleExpiresAt.getTime() > now;

  // Group commit: under sign-in load the hashes finish a few ms apart, and each session would be a
  // statement of its own — on PGlite run on the event loop, beside the hashing; most of a
  // statement's cost is per statement, not per row. So while other sign-ins are about to finish
  // (`moreComing`: hashes in flight), a session write waits `issueWaitMs` for them to join it; a
  // lone sign-in is written at once. The wait is small beside the hash every sign-in has just
  // queued for under such load. One row the store refuses (a user deleted meanwhile) fails only its
  // own sign-in (isolateFailures).
  const issueWaitMs = deps.issueWaitMs ?? 0;
  const moreComing = deps.moreComing ?? (() => false);
  const writeSessions = createBatcher(
    (items: { session: NewSession; event: NewEvent }[]) => deps.sessions.createManyWithEvents(items),
    { isolateFailures: true, waitMs: () => (issueWaitMs > 0 && moreComing() ? issueWaitMs : 0) },
  );

  /** A new session for `user`, written together with its audit event (one statement, both or neither). */
  async function issue(
    user: User,
    policy: RealmPolicy,
    rememberMe: boolean,
    ctx: RequestContext,
    event: IssueEvent,
  ): Promise<IssuedSession> {
    const now = deps.clock.now();
    const token = newSessionToken(deps.random);
    const life = sessionLifetimes(policy, rememberMe, now);
    const session = await writeSessions({
      session: {
        realm: policy.name,
        userId: user.id,
        tokenHash: hashSessionToken(token),
        remember: life.remember,
        idleExpiresAt: life.idleExpiresAt,
        expiresAt: life.expiresAt,
        ip: ctx.ip,
        userAgent: ctx.userAgent?.slice(0, 400) ?? null,
      },
      event: {
        realm: policy.name,
        kind: event.kind,
        userId: user.id,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        data: { ...event.data, remember: life.remember },
      },
    });
    return { token, session };
  }

  /**
   * authenticate() without a promise, for the hot path: the same answer when this node's cache can
   * give it now (the live session, or null), `undefined` when only the database can tell — then call
   * authenticate(). Same cache bound, expiry checks and idle slide.
   */
  function authenticateCached(token: string | undefined, policy?: PolicyOf): SessionWithUser | null | undefined {
    if (!token || !isWellFormedToken(token)) return null;
    const hit = cache.get(sessionTokenKey(token));
    if (!hit || hit.until <= Date.now()) return undefined;
    return accept(hit.value, deps.clock.now().getTime(), policy);
  }

  /** The live session behind a token, or null. Never throws on junk input. */
  async function authenticate(token: string | undefined, policy?: PolicyOf) {
    if (!token || !isWellFormedToken(token)) return null;
    const key = sessionTokenKey(token);
    const nowMs = deps.clock.now().getTime();
    const hit = cache.get(key);
    let found: SessionWithUser | null;
    if (hit && hit.until > Date.now()) {
      found = hit.value;
    } else {
      let lookup = pending.get(key);
      if (!lookup) {
        const started = generation;
        lookup = deps.sessions
          .findLiveByTokenHash(Buffer.from(key, 'base64'))
          .then((v) => {
            if (started === generation) remember(key, v);
            return v;
          })
          .finally(() => pending.delete(key));
        pending.set(key, lookup);
      }
      found = await lookup;
    }
    return accept(found, nowMs, policy);
  }

  /** What every authentication ends with, cached or not: expiry re-checked, idle expiry slid. */
  function accept(found: SessionWithUser | null, nowMs: number, policy: PolicyOf | undefined) {
    if (!found || !live(found.session, nowMs)) return null;
    if (nowMs - found.session.lastSeenAt.getTime() > TOUCH_EVERY_MS) slide(found, nowMs, policy?.(found.session.realm));
    return found;
  }

  function slide(found: SessionWithUser, nowMs: number, policy: RealmPolicy | undefined) {
    const s = found.session;
    const idleMs =
      s.remember || !policy ? s.idleExpiresAt.getTime() - s.lastSeenAt.getTime() : policy.sessions.idleMinutes * 60_000;
    const lastSeenAt = new Date(nowMs);
    const idleExpiresAt = new Date(Math.min(s.expiresAt.getTime(), nowMs + idleMs));
    // Update the cached copy first so concurrent requests don't all write.
    s.lastSeenAt = lastSeenAt;
    s.idleExpiresAt = idleExpiresAt;
    deps.sessions.touch(s.id, lastSeenAt, idleExpiresAt).catch((e) => deps.onError?.(e));
  }

  async function revoke(userId: string, sessionId: string): Promise<boolean> {
    forget((v) => v.session.id === sessionId);
    return deps.sessions.revoke(userId, sessionId);
  }

  async function revokeToken(token: string | undefined): Promise<Session | null> {
    if (!token || !isWellFormedToken(token)) return null;
    const hash = hashSessionToken(token);
    cache.delete(hash.toString('base64'));
    generation++;
    pending.clear();
    return deps.sessions.revokeByTokenHash(hash);
  }

  async function revokeAllForUser(userId: string, exceptId?: string): Promise<number> {
    forget((v) => v.user.id === userId && v.session.id !== exceptId);
    return deps.sessions.revokeAllForUser(userId, exceptId);
  }

  /** Sign out: end the session behind `token` and log it. null when there was no live session. */
  async function signOut(token: string | undefined, ctx: Omit<RequestContext, 'locale'>): Promise<Session | null> {
    const ended = await revokeToken(token);
    if (ended) {
      await deps.events.append({
        realm: ended.realm,
        kind: 'signout',
        userId: ended.userId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        data: { session: ended.id },
      });
    }
    return ended;
  }

  /** A signed-in user ends one of their sessions (a lost device); false when it is not theirs or not live. */
  async function endSession(
    user: User,
    sessionId: string,
    ctx: Omit<RequestContext, 'locale'>,
    via: string,
  ): Promise<boolean> {
    const ok = await revoke(user.id, sessionId);
    if (ok) {
      await deps.events.append({
        realm: user.realm,
        kind: 'session.revoked',
        userId: user.id,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        data: { session: sessionId, via },
      });
    }
    return ok;
  }

  return {
    issue,
    authenticate,
    authenticateCached,
    signOut,
    endSession,
    revoke,
    revokeToken,
    revokeAllForUser,
    list: (userId: string) => deps.sessions.listLiveForUser(userId),
    /** Drop every cached entry of a user (after a status or rights change). */
    forgetUser: (userId: string) => forget((v) => v.user.id === userId),
    cacheSize: () => cache.size,
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
