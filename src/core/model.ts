// The domain's records as the core sees them. Storage maps rows to these; HTTP maps these to JSON.

export type UserStatus = 'active' | 'locked' | 'disabled';
export const USER_STATUSES: readonly UserStatus[] = ['active', 'locked', 'disabled'];

export type Locale = 'ru' | 'en';
export const LOCALES: readonly Locale[] = ['ru', 'en'];

/** Well-known rights. Rights are free strings; these are the ones the core itself checks. */
export const RIGHTS = {
  passwordChangeOwn: 'password:change-own',
} as const;

export interface User {
  id: string;
  realm: string;
  /** As entered (trimmed, NFKC); lookups use the normalized key, display uses this. */
  login: string | null;
  email: string | null;
  emailVerified: boolean;
  /** E.164, e.g. +79161234567. */
  phone: string | null;
  phoneVerified: boolean;
  /** ISO date, YYYY-MM-DD. */
  birthDate: string | null;
  locale: Locale | null;
  status: UserStatus;
  rights: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** A user with the secret part, only ever loaded by the sign-in and password services. */
export interface UserWithSecret extends User {
  passwordHash: string | null;
}

export interface Session {
  id: string;
  realm: string;
  userId: string;
  remember: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  /** Ends when the user is idle this long (slides with lastSeenAt). */
  idleExpiresAt: Date;
  /** Ends here whatever the activity. */
  expiresAt: Date;
  revokedAt: Date | null;
  ip: string | null;
  userAgent: string | null;
}

export type EventKind =
  | 'signin.succeeded'
  | 'signin.failed'
  | 'signin.rate_limited'
  | 'signout'
  | 'session.revoked'
  | 'user.created'
  | 'user.updated'
  | 'password.changed'
  | 'realm.applied'
  | 'recovery.requested'
  | 'recovery.mailed'
  | 'recovery.throttled'
  | 'recovery.code_failed'
  | 'recovery.failed'
  | 'recovery.expired'
  | 'recovery.completed';

export interface AuditEvent {
  id: string;
  at: Date;
  realm: string | null;
  kind: EventKind;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  data: Record<string, unknown>;
}

/** Where a request came from, for events and rate limits. */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  /** Locale negotiated for this request (user setting > cookie > Accept-Language > realm default). */
  locale: Locale;
}
