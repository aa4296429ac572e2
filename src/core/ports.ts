// What the core needs from the outside world. Storage (src/store) implements the repositories on
// PGlite and PostgreSQL; each repository is narrow and named by use, with one contract test suite
// run on both drivers. Services receive these through `deps` — no module singletons.
import type { RealmPolicy } from './realm/policy-schema.ts';
import type { AuditEvent, EventKind, Locale, Session, User, UserStatus, UserWithSecret } from './model.ts';

export interface Clock {
  now(): Date;
}

export interface Random {
  /** Cryptographically secure random bytes. */
  bytes(n: number): Buffer;
  uuid(): string;
}

/** Argon2id (or legacy) hashing, always off the event loop. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time verification; false for a malformed hash. `needsRehash` when params are outdated. */
  verify(hash: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** Same cost as a real verification, for unknown accounts (no timing leak). */
  dummyVerify(password: string): Promise<void>;
}

export interface RealmRecord {
  name: string;
  policy: RealmPolicy;
  createdAt: Date;
  updatedAt: Date;
}

export interface RealmsRepo {
  upsert(policy: RealmPolicy): Promise<RealmRecord>;
  get(name: string): Promise<RealmRecord | null>;
  list(): Promise<RealmRecord[]>;
}

export interface NewUser {
  realm: string;
  login: string | null;
  /** Normalized lookup keys (see core/identifiers). */
  loginKey: string | null;
  email: string | null;
  emailKey: string | null;
  emailVerified: boolean;
  phone: string | null;
  phoneVerified: boolean;
  birthDate: string | null;
  locale: Locale | null;
  status: UserStatus;
  rights: string[];
  passwordHash: string | null;
}

export interface UsersRepo {
  /** Throws DostupError IDENTIFIER_TAKEN when the login, e-mail or phone is already used in the realm. */
  create(u: NewUser): Promise<User>;
  getById(realm: string, id: string): Promise<User | null>;
  /** Lookup by a normalized key for sign-in; returns the hash too. */
  findForSignIn(realm: string, by: 'login' | 'email' | 'phone', key: string): Promise<UserWithSecret | null>;
  list(realm: string, opts: { limit: number; offset: number }): Promise<User[]>;
  count(realm: string): Promise<number>;
  /** Replace the hash and push the old one into the history, keeping at most `keepHistory` entries. */
  setPasswordHash(userId: string, hash: string, keepHistory: number): Promise<void>;
  /** Most recent first, at most `limit`. The current hash is not part of the history. */
  passwordHistory(userId: string, limit: number): Promise<string[]>;
  setStatus(userId: string, status: UserStatus): Promise<void>;
}

export interface NewSession {
  realm: string;
  userId: string;
  /** SHA-256 of the session token; the token itself is never stored. */
  tokenHash: Buffer;
  remember: boolean;
  idleExpiresAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

export interface SessionWithUser {
  session: Session;
  user: User;
}

export interface SessionsRepo {
  create(s: NewSession): Promise<Session>;
  /** A live session (not revoked, not expired by the database clock) with its user. */
  findLiveByTokenHash(tokenHash: Buffer): Promise<SessionWithUser | null>;
  /** Slide the idle expiry; called at most once a minute per session. */
  touch(sessionId: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void>;
  listLiveForUser(userId: string): Promise<Session[]>;
  /** Returns false when there was no such live session of this user. */
  revoke(userId: string, sessionId: string): Promise<boolean>;
  revokeByTokenHash(tokenHash: Buffer): Promise<Session | null>;
  /** Ends every session of the user except `exceptId`; returns how many ended. */
  revokeAllForUser(userId: string, exceptId?: string): Promise<number>;
  /** Sessions revoked since `since` (for cache invalidation across nodes). */
  revokedSince(since: Date): Promise<{ id: string; tokenHash: Buffer; revokedAt: Date }[]>;
  deleteExpired(before: Date): Promise<number>;
}

export interface NewEvent {
  realm: string | null;
  kind: EventKind;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  data?: Record<string, unknown>;
}

export interface EventsRepo {
  append(e: NewEvent): Promise<void>;
  /** Newest first. */
  list(opts: { realm?: string; userId?: string; kind?: EventKind; limit: number; before?: string }): Promise<AuditEvent[]>;
}

export interface FlowRecord {
  id: string;
  realm: string;
  /** `login`, `recovery`, … — one state machine per kind (core/flows/<kind>). */
  kind: string;
  state: string;
  /** Per-method data of the flow (JSON). Never holds a raw secret. */
  data: Record<string, unknown>;
  /** SHA-256 of the CSRF secret of the browser that started the flow; null for API flows. */
  csrfBinding: Buffer | null;
  /** Bumped on every update: updates are compare-and-swap on it, so two racing requests can't both win. */
  version: number;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewFlow {
  id: string;
  realm: string;
  kind: string;
  state: string;
  data: Record<string, unknown>;
  csrfBinding: Buffer | null;
  expiresAt: Date;
}

export interface FlowsRepo {
  create(f: NewFlow): Promise<FlowRecord>;
  /** The flow, or null when unknown. Expiry is the caller's decision (`expired` is computed by the DB clock). */
  get(id: string): Promise<(FlowRecord & { expired: boolean }) | null>;
  /** Compare-and-swap on `version`; returns the new record, or null when someone else changed it first. */
  update(id: string, expectedVersion: number, state: string, data: Record<string, unknown>): Promise<FlowRecord | null>;
  deleteExpired(before: Date): Promise<number>;
}

/** Everything a unit of work can touch, bound to one transaction. */
export interface Repos {
  realms: RealmsRepo;
  users: UsersRepo;
  sessions: SessionsRepo;
  flows: FlowsRepo;
  events: EventsRepo;
}

export interface Store extends Repos {
  /** Run `fn` in one transaction; every repository it receives shares it. */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Database reachable (for /ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly driver: 'pglite' | 'pg';
}

/** A token bucket counter (rate-limiter-flexible behind it: memory or Redis). */
export interface RateLimiter {
  /** Consume one point for `key`; returns seconds to wait when the limit is reached, else 0. */
  consume(bucket: string, key: string): Promise<number>;
  /** Forget the failures of `key` (after a successful sign-in). */
  reset(bucket: string, key: string): Promise<void>;
}
