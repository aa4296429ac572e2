// The `password` method serving the `login` flow: identifier + password → a verified user.
//
// Unknown accounts must be indistinguishable from wrong passwords (S2.1 and our safety rules):
// the same error, and the same argon2 work — an unknown login runs a dummy verification with the
// same parameters, so response time does not tell whether the account exists.
import { DostupError } from '../../errors.ts';
import { classifyIdentifier } from '../../identifiers/normalize.ts';
import type { RequestContext, UserWithSecret } from '../../model.ts';
import { assertPasswordSize } from '../../password/policy.ts';
import type { EventsRepo, PasswordHasher, RateLimiter, UsersRepo } from '../../ports.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';

export interface PasswordLoginInput {
  identifier: string;
  password: string;
}

export interface PasswordLoginDeps {
  users: UsersRepo;
  events: EventsRepo;
  hasher: PasswordHasher;
  limiter: RateLimiter;
}

export const SIGNIN_BUCKETS = { perIp: 'signin-ip', perAccount: 'signin-account' } as const;

export type PasswordLoginResult =
  | { ok: true; user: UserWithSecret; needsRehash: boolean }
  | { ok: false; error: DostupError; userId: string | null };

export async function verifyPasswordLogin(
  deps: PasswordLoginDeps,
  realm: RealmPolicy,
  input: PasswordLoginInput,
  ctx: RequestContext,
): Promise<PasswordLoginResult> {
  // Refuse megabyte passwords before any hashing: argon2 over a huge input is a cheap DoS.
  assertPasswordSize(input.password);

  const classified = safeClassify(input.identifier, realm.signIn.identifiers);
  // The account bucket is keyed by what was typed (normalized), known account or not, so a 429
  // never tells whether the account exists.
  const accountKey = `${realm.name}:${classified?.key ?? input.identifier.trim().toLowerCase().slice(0, 200)}`;
  const ipKey = `${realm.name}:${ctx.ip ?? 'unknown'}`;
  const waitIp = await deps.limiter.consume(SIGNIN_BUCKETS.perIp, ipKey);
  const waitAccount = waitIp > 0 ? 0 : await deps.limiter.consume(SIGNIN_BUCKETS.perAccount, accountKey);
  const wait = Math.max(waitIp, waitAccount);
  if (wait > 0) {
    await deps.events.append({
      realm: realm.name,
      kind: 'signin.rate_limited',
      userId: null,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      data: { bucket: waitIp > 0 ? 'ip' : 'account' },
    });
    return { ok: false, error: new DostupError('RATE_LIMITED', { retryAfter: wait }), userId: null };
  }

  const user = classified ? await deps.users.findForSignIn(realm.name, classified.kind, classified.key) : null;
  let verified = false;
  let needsRehash = false;
  if (user?.passwordHash) {
    const res = await deps.hasher.verify(user.passwordHash, input.password);
    verified = res.ok;
    needsRehash = res.needsRehash;
  } else {
    await deps.hasher.dummyVerify(input.password);
  }

  if (!user || !verified) {
    await deps.events.append({
      realm: realm.name,
      kind: 'signin.failed',
      userId: user?.id ?? null,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      data: { reason: user ? 'password' : 'unknown_account' },
    });
    const revealUnknown = realm.signIn.errorMode === 'reveal-unknown' && !user;
    const error = revealUnknown
      ? new DostupError('USER_NOT_FOUND', { issues: [{ path: '/identifier', messageId: 'signin.account_not_found' }] })
      : new DostupError('INVALID_CREDENTIALS');
    return { ok: false, error, userId: user?.id ?? null };
  }

  if (user.status !== 'active') {
    // Only someone who knows the password learns the account is locked; everyone else sees the
    // generic message above.
    await deps.events.append({
      realm: realm.name,
      kind: 'signin.failed',
      userId: user.id,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      data: { reason: `status_${user.status}` },
    });
    return { ok: false, error: new DostupError('ACCOUNT_LOCKED'), userId: user.id };
  }
  await deps.limiter.reset(SIGNIN_BUCKETS.perAccount, accountKey);
  return { ok: true, user, needsRehash };
}

function safeClassify(raw: string, allowed: RealmPolicy['signIn']['identifiers']) {
  try {
    return classifyIdentifier(raw, allowed);
  } catch {
    // Malformed identifiers get the generic answer (after dummy work), never a different error.
    return null;
  }
}
