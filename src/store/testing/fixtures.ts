// Test data for the contract suites. Every suite shares one database per driver, so each test makes
// its own realm with a random name instead of relying on cleanup between tests.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { NewSession, NewUser, Repos } from '../../core/ports.ts';
import { validateRealmPolicy } from '../../core/realm/policy.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';

export const uniqueName = (prefix = 'r'): string => `${prefix}-${randomBytes(5).toString('hex')}`;

export function testPolicy(name: string, overrides: Record<string, unknown> = {}): RealmPolicy {
  return validateRealmPolicy({ name, baseUrl: 'https://portal.example.test', ...overrides });
}

/** A fresh realm in the database; returns its name. */
export async function makeRealm(repos: Pick<Repos, 'realms'>): Promise<string> {
  const name = uniqueName();
  await repos.realms.upsert(testPolicy(name));
  return name;
}

export function newUser(realm: string, overrides: Partial<NewUser> = {}): NewUser {
  const login = `user-${randomBytes(4).toString('hex')}`;
  return {
    realm,
    login,
    loginKey: login.toLowerCase(),
    email: null,
    emailKey: null,
    emailVerified: false,
    phone: null,
    phoneVerified: false,
    birthDate: null,
    locale: null,
    status: 'active',
    rights: [],
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA',
    ...overrides,
  };
}

/** SHA-256 of a random token, as the session service stores it. */
export const tokenHash = (): Buffer => createHash('sha256').update(randomBytes(32)).digest();

export const minutesFromNow = (m: number): Date => new Date(Date.now() + m * 60_000);

export function newSession(realm: string, userId: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    realm,
    userId,
    tokenHash: tokenHash(),
    remember: false,
    idleExpiresAt: minutesFromNow(30),
    expiresAt: minutesFromNow(24 * 60),
    ip: '192.0.2.10',
    userAgent: 'contract-test',
    ...overrides,
  };
}

export const uuid = (): string => randomUUID();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The rejection of `p`, or a failure when it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}
