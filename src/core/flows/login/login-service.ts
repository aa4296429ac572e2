// The login flow service: runs the method for the current state and decides the next one.
// Today a correct password completes the flow in one step and no flow row is written (a GET of the
// sign-in page must not cost a database write, or bots could fill the table). When a realm adds a
// step after the password (consent, second factor), the flow is persisted through the flow engine
// and the response says `continue`.
import { groupedSignInLookup } from '../../methods/password/grouped-lookup.ts';
import { type PasswordLoginDeps, type PasswordLoginInput, verifyPasswordLogin } from '../../methods/password/login.ts';
import type { RequestContext, Session, User } from '../../model.ts';
import { completed, type Outcome, rejected } from '../../outcome.ts';
import type { PasswordHasher, UsersRepo } from '../../ports.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import type { SessionService } from '../../sessions/session-service.ts';
import { move } from '../machine.ts';
import { type LoginState, loginMachine } from './state.ts';

export interface LoginServiceDeps extends PasswordLoginDeps {
  users: UsersRepo;
  hasher: PasswordHasher;
  sessions: SessionService;
  /** Where failures of background work (the re-hash after a sign-in) are reported. */
  onError?: (e: unknown) => void;
  /** While hashes are in flight, a sign-in's account lookup waits this long (ms) to share a statement. */
  lookupWaitMs?: number;
}

export interface SignedIn {
  user: User;
  session: Session;
  /** The bearer/cookie value, given to the client once. */
  token: string;
}

export interface LoginInput extends PasswordLoginInput {
  remember: boolean;
}

export function createLoginService(deps: LoginServiceDeps) {
  // The password method looks accounts up through a grouped lookup (grouped-lookup.ts).
  const findForSignIn = groupedSignInLookup(deps.users, {
    waitMs: deps.lookupWaitMs ?? 0,
    moreComing: () => (deps.hasher.inFlight?.() ?? 0) > 0,
  });
  const methodDeps: PasswordLoginDeps = { ...deps, users: { ...deps.users, findForSignIn } };

  async function signInWithPassword(
    realm: RealmPolicy,
    input: LoginInput,
    ctx: RequestContext,
  ): Promise<Outcome<SignedIn> & { userId?: string | null }> {
    let state: LoginState = loginMachine.initial;
    const res = await verifyPasswordLogin(methodDeps, realm, input, ctx);
    if (!res.ok) {
      state = move(loginMachine, state, 'awaiting_credentials');
      return { ...rejected(res.error), userId: res.userId };
    }
    const { passwordHash, ...user } = res.user;
    if (res.needsRehash && passwordHash) {
      // Parameters were raised (or the hash was imported from a legacy system): upgrade it now,
      // while we have the plaintext. Failure here must not fail the sign-in.
      deps.hasher
        .hash(input.password)
        .then((h) => deps.users.rehash(user.id, passwordHash, h))
        .catch((e) => deps.onError?.(e));
    }
    state = move(loginMachine, state, 'completed');
    // The success event is written in the same statement as the session (its data gets `remember`
    // and `session`).
    const issued = await deps.sessions.issue(user, realm, input.remember, ctx, {
      kind: 'signin.succeeded',
      data: { method: 'password' },
    });
    return completed({ user, session: issued.session, token: issued.token });
  }

  return { signInWithPassword };
}

export type LoginService = ReturnType<typeof createLoginService>;
