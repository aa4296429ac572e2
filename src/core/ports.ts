// What the core needs from the outside world. Storage (src/store) implements the repositories on
// PGlite and PostgreSQL; each repository is narrow and named by use, with one contract test suite
// run on both drivers. Services receive these through `deps` — no module singletons.

import type { AuditEvent, EventKind, Locale, Session, User, UserStatus, UserWithSecret } from './model.ts';
import type { RealmPolicy } from './realm/policy-schema.ts';

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
  /** Hashes and verifications running or waiting to run (a load signal; optional for fakes). */
  inFlight?(): number;
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
  /** The user with the current hash (password change and recovery: history checks). */
  getWithSecret(realm: string, id: string): Promise<UserWithSecret | null>;
  /** Lookup by a normalized key for sign-in; returns the hash too. */
  findForSignIn(realm: string, by: 'login' | 'email' | 'phone', key: string): Promise<UserWithSecret | null>;
  /** findForSignIn for several keys in one statement: found users by key (unknown keys are absent). */
  findManyForSignIn(
    realm: string,
    by: 'login' | 'email' | 'phone',
    keys: string[],
  ): Promise<Map<string, UserWithSecret>>;
  list(realm: string, opts: { limit: number; offset: number }): Promise<User[]>;
  count(realm: string): Promise<number>;
  /** Replace the hash and push the old one into the history, keeping at most `keepHistory` entries. */
  setPasswordHash(userId: string, hash: string, keepHistory: number): Promise<void>;
  /**
   * Replace the hash of the SAME password with one made with current parameters, only if it is still
   * `oldHash`; the history is untouched. False when the password changed meanwhile.
   */
  rehash(userId: string, oldHash: string, newHash: string): Promise<boolean>;
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
  /**
   * Insert the sessions and append each one's `event`, all in one statement (every row or none),
   * answered in the order given. Each event's `data` gets `session`: its new session's id.
   */
  createManyWithEvents(items: readonly { session: NewSession; event: NewEvent }[]): Promise<Session[]>;
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
  /** Several in one statement, logged in this order. */
  appendMany(es: NewEvent[]): Promise<void>;
  /** Newest first. */
  list(opts: {
    realm?: string;
    userId?: string;
    kind?: EventKind;
    limit: number;
    before?: string;
  }): Promise<AuditEvent[]>;
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
  /** Several in one statement; the records in the order given. */
  createMany(fs: NewFlow[]): Promise<FlowRecord[]>;
  /** Several flows and events in ONE statement (both commit or neither does); the records in the order given. */
  createManyWithEvents(fs: NewFlow[], es: NewEvent[]): Promise<FlowRecord[]>;
  /** The flow, or null when unknown. Expiry is the caller's decision (`expired` is computed by the DB clock). */
  get(id: string): Promise<(FlowRecord & { expired: boolean }) | null>;
  /** get() for several ids in one statement; unknown ids are simply missing from the answer. */
  getMany(ids: string[]): Promise<(FlowRecord & { expired: boolean })[]>;
  /** Compare-and-swap on `version`; returns the new record, or null when someone else changed it first. */
  update(id: string, expectedVersion: number, state: string, data: Record<string, unknown>): Promise<FlowRecord | null>;
  /**
   * update() for several flows in one statement, each under its own compare-and-swap: returns the
   * ids that moved (the others were changed by someone else first).
   */
  updateMany(
    changes: { id: string; expectedVersion: number; state: string; data: Record<string, unknown> }[],
  ): Promise<Set<string>>;
  /** Live flows of `kind` sitting in `state` for at least `olderThanSeconds` (work a crashed node left behind). */
  listStale(kind: string, state: string, olderThanSeconds: number, limit: number): Promise<FlowRecord[]>;
  deleteExpired(before: Date): Promise<number>;
}

/** One-time secrets (recovery codes and links, later SMS codes): stored only as HMACs. */
export interface NewOneTimeSecret {
  id: string;
  realm: string;
  userId: string;
  /** What the secret may be used for, e.g. `recovery`. A secret of one purpose never passes for another. */
  purpose: string;
  /** The flow that issued it, if any. */
  flowId: string | null;
  /** HMAC-SHA256 of the secret under the current server key. */
  hmac: Buffer;
  /** Which server key made the HMAC (keys rotate; old ones still verify). */
  keyId: string;
  maxAttempts: number;
  /** Lifetime in seconds, applied with the DATABASE clock (`now() + interval`). */
  ttlSeconds: number;
}

export interface OneTimeSecretRecord {
  id: string;
  realm: string;
  userId: string;
  purpose: string;
  flowId: string | null;
  hmac: Buffer;
  keyId: string;
  attempts: number;
  maxAttempts: number;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  invalidatedAt: Date | null;
  /** Seconds since creation by the database clock (for "typed code" lifetimes shorter than the link's). */
  ageSeconds: number;
}

/** Why a one-time secret that exists can't be used (or `live` when it still can). */
export type UnusableReason = 'used' | 'replaced' | 'expired' | 'exhausted' | 'live';

export interface OneTimeSecretsRepo {
  /**
   * Inserts the secrets and, in the same statement sequence, invalidates older unused ones of the same
   * user + purpose — as if one after the other in the order given (a later one replaces an earlier one).
   */
  issueMany(ss: NewOneTimeSecret[]): Promise<OneTimeSecretRecord[]>;
  /**
   * Raise the attempt counter BEFORE any comparison and return the row as it is after the raise —
   * only while it is usable (unused, not invalidated, not expired by the DB clock, attempts not exhausted
   * before this one). null otherwise. `by` selects the row: its id, or the newest live one of a user.
   */
  beginAttempt(
    by: { id: string } | { realm: string; userId: string; purpose: string },
  ): Promise<OneTimeSecretRecord | null>;
  /**
   * Read-only: could this secret still be used (unused, not invalidated, not expired, tries left)?
   * Compares nothing and counts nothing — for a page that shows "this link has expired" up front.
   */
  isUsable(id: string, realm: string, purpose: string): Promise<boolean>;
  /**
   * Read-only, for the event log after a refused link: why the secret can no longer be used, and
   * whose it was. null when the realm has no such row (never issued, another realm's, or already deleted).
   * The first reason that applies, in the order used, replaced, expired, exhausted.
   */
  whyUnusable(id: string, realm: string): Promise<{ reason: UnusableReason; userId: string } | null>;
  /** Atomic single use: `UPDATE … SET used_at = now() WHERE id = $1 AND used_at IS NULL AND … RETURNING`. */
  consume(id: string): Promise<boolean>;
  /** Invalidate every unused secret of the user for the purpose (e.g. after a completed reset). */
  invalidateAll(userId: string, purpose: string): Promise<number>;
  deleteExpired(before: Date): Promise<number>;
}

export type OutboxChannel = 'email' | 'sms';
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'abandoned';

export interface NewOutboxMessage {
  id: string;
  realm: string | null;
  channel: OutboxChannel;
  /** The address as stored for the user (mail always goes to the address as stored). */
  recipient: string;
  /** Template id, e.g. `recovery-code`, `password-changed`. */
  template: string;
  locale: Locale;
  /**
   * Template parameters, ENCRYPTED (AES-256-GCM under a key derived from the server secret) because
   * they may carry a one-time code; wiped after delivery.
   */
  payload: Buffer;
}

export type FinishedOutboxMessage = Omit<NewOutboxMessage, 'payload'> &
  ({ status: 'sent'; lastError: null } | { status: 'abandoned'; lastError: string });

export interface OutboxMessage extends Omit<NewOutboxMessage, 'payload'> {
  payload: Buffer | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lockedUntil: Date | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export interface OutboxRepo {
  /** Queued (due now, not leased): what a claim takes. The server queues with `enqueueLeased`. */
  enqueue(m: NewOutboxMessage): Promise<void>;
  /**
   * Several in one statement, already claimed by the caller: status sending, attempts 1, leased for
   * `leaseSeconds` — as if `claim` had taken them the moment they were written. The node that queues
   * a mail sends it itself once its transaction commits, without a claim statement; if it never
   * does (it died), the lease runs out and any worker's `claim` takes the row.
   */
  enqueueLeased(ms: NewOutboxMessage[], leaseSeconds: number): Promise<OutboxMessage[]>;
  /**
   * Several in one statement, already finished at attempt 1, without a payload: mail a transport in
   * this same database took inside the caller's transaction (the dev mailbox), `sent` — or
   * `abandoned` with the reason when it could not be rendered.
   */
  recordFinished(ms: FinishedOutboxMessage[]): Promise<void>;
  /**
   * Claim up to `limit` due messages with FOR UPDATE SKIP LOCKED: status → sending, attempts + 1,
   * locked_until = now() + leaseSeconds. A message whose lease ran out (a node died mid-send) is due again.
   */
  claim(limit: number, leaseSeconds: number): Promise<OutboxMessage[]>;
  /** Delete sent and abandoned messages finished (sent, or last tried) before `before`; how many. */
  deleteFinished(before: Date): Promise<number>;
  /**
   * Delivered (a worker's round, one statement): status sent, payload wiped — each row only if still
   * leased by its claim (attempts matches).
   */
  markSentMany(claims: { id: string; attempts: number }[]): Promise<void>;
  /** Failed: back to queued at `retryAt`, or abandoned when `abandon`. Payload wiped when abandoned. */
  markFailed(id: string, attempts: number, error: string, retryAt: Date | null): Promise<void>;
  get(id: string): Promise<OutboxMessage | null>;
  list(opts: { limit: number; status?: OutboxStatus; recipient?: string }): Promise<OutboxMessage[]>;
}

/**
 * What a mail is rendered from. The development mailbox keeps this (~0.5 KB) instead of the rendered
 * bodies (~4 KB) and renders again when the mail is viewed (src/delivery/dev-mailbox.ts).
 */
export interface MailSource {
  template: string;
  locale: Locale;
  params: Record<string, unknown>;
  /** The realm's branding when the mail was sent: viewed later, it looks the way it was sent. */
  branding: Partial<RealmPolicy['branding']> | null;
}

/**
 * A mail "delivered" to the development mailbox (no SMTP configured), as stored: its source, or —
 * for mail stored before migration 0006, and mail handed over without a source — its bodies.
 */
export interface StoredDevMail {
  id: string;
  outboxId: string | null;
  realm: string | null;
  recipient: string;
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  source: MailSource | null;
  createdAt: Date;
}

export type NewDevMail = Omit<StoredDevMail, 'id' | 'createdAt'>;

/** A dev-mailbox mail ready to show at /dev/mailbox: bodies rendered. */
export interface DevMail extends Omit<StoredDevMail, 'textBody' | 'htmlBody' | 'source'> {
  textBody: string;
  htmlBody: string;
}

export interface DevMailboxRepo {
  add(m: NewDevMail): Promise<StoredDevMail>;
  /** Several in one statement, in this order (latestFor sees the last one as the newest); their ids. */
  addMany(mails: NewDevMail[]): Promise<{ id: string }[]>;
  /** Newest first. */
  list(limit: number): Promise<StoredDevMail[]>;
  get(id: string): Promise<StoredDevMail | null>;
  /** The newest mail to `recipient` (compared case-insensitively), or null. */
  latestFor(recipient: string): Promise<StoredDevMail | null>;
  /** Delete mail stored before `before`; how many. */
  deleteOlderThan(before: Date): Promise<number>;
}

export interface MailToQueue {
  realm: string | null;
  /** The address as stored for the user (never re-cased or rebuilt). */
  recipient: string;
  /** Template id: `recovery-code`, `password-changed`, `recovery-unknown-account`. */
  template: string;
  locale: Locale;
  params: Record<string, unknown>;
}

/** A mail queued in a transaction and leased to this node; the core only passes it on to `deliver`. */
export interface QueuedMail {
  message: OutboxMessage;
  /** When the lease began, by this node's clock (ms): the send must end before the lease does. */
  leasedAt: number;
}

/**
 * The core's view of the outbox: queue inside the state change's transaction, then — once it has
 * committed — hand what was queued to `deliver`. Never before the commit: a mail about a change that
 * then rolled back must not go out. Not calling `deliver` (a crash, an exception after the commit)
 * only delays the mail: its lease runs out and any node's worker sends it.
 */
export interface MailQueue {
  enqueue(tx: Repos, m: MailToQueue): Promise<QueuedMail[]>;
  /** Several in one statement, in the same transaction. */
  enqueueMany(tx: Repos, ms: MailToQueue[]): Promise<QueuedMail[]>;
  /** Send these on this node now (call after their transaction committed). */
  deliver(queued: QueuedMail[]): void;
}

/** Everything a unit of work can touch, bound to one transaction. */
export interface Repos {
  realms: RealmsRepo;
  users: UsersRepo;
  sessions: SessionsRepo;
  flows: FlowsRepo;
  events: EventsRepo;
  oneTimeSecrets: OneTimeSecretsRepo;
  outbox: OutboxRepo;
  devMailbox: DevMailboxRepo;
}

export interface Store extends Repos {
  /** Run `fn` in one transaction; every repository it receives shares it. */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Database reachable (for /ready). */
  ping(): Promise<void>;
  /**
   * Reclaim dead row versions where the database does not do it itself (embedded PGlite has no
   * autovacuum); a no-op on PostgreSQL. Housekeeping calls it on a timer.
   */
  vacuum(): Promise<void>;
  close(): Promise<void>;
  readonly driver: 'pglite' | 'pg';
}

/** A token bucket counter (rate-limiter-flexible behind it: memory or Redis). */
export interface RateLimiter {
  /** Consume one point for `key`; returns seconds to wait when the limit is reached, else 0. */
  consume(bucket: string, key: string): Promise<number>;
  /** Forget the failures of `key` (after a successful sign-in). */
  reset(bucket: string, key: string): Promise<void>;
  /** Give back one point consumed for work that then did not happen (lost a race, rolled back). */
  refund(bucket: string, key: string): Promise<void>;
}
