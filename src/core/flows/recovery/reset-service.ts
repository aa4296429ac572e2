// "Set a new password" — the end of recovery (S1.3, S2.5, S4.3, S4.4). The code arrives one of three
// ways: the mailed link (secret id + code), typed on the "mail sent" page of the browser that asked
// (the flow knows the account), or typed on another device with the identifier (S1.2).
//
// Order matters: cheap password rules first (a weak password must not burn a code attempt), then the
// code (attempt counted before comparing), then rules needing the account (not the login, not a
// recent password). Then ONE transaction: code consumed, password changed, other codes void, every
// session ended, "password changed" mail queued, events written.
import { DostupError } from '../../errors.ts';
import { typedCodeMaxAgeSeconds } from '../../methods/email-code/recovery.ts';
import { linkMaxAgeSeconds, RECOVERY_PURPOSE } from '../../methods/email-link/recovery.ts';
import type { RequestContext, UserWithSecret } from '../../model.ts';
import type { CommonPasswordList } from '../../password/common-passwords.ts';
import { assertPasswordSize, checkPassword } from '../../password/policy.ts';
import type { Clock, MailQueue, PasswordHasher, Random, RateLimiter, Repos, Store } from '../../ports.ts';
import { realmTitle } from '../../realm/policy.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import type { OneTimeSecrets } from '../../secrets/one-time-secrets.ts';
import type { SessionService } from '../../sessions/session-service.ts';
import { createFlowEngine, type LoadedFlow } from '../engine.ts';
import { canSelfReset, findRecoveryUser, identify, type RecoveryInput } from './identify.ts';
import { RECOVERY_BUCKETS } from './recovery-service.ts';
import { type RecoveryState, recoveryData, recoveryMachine } from './state.ts';

export type CodeSource =
  | { link: { secretId: string } }
  | { flow: { flowId: string; binding: Buffer | null } }
  | { typed: RecoveryInput };

export interface CompleteInput {
  source: CodeSource;
  code: string;
  password: string;
  confirm: string;
}

export interface ResetServiceDeps {
  store: Store;
  clock: Clock;
  random: Random;
  limiter: RateLimiter;
  hasher: PasswordHasher;
  common: CommonPasswordList;
  secrets: OneTimeSecrets;
  mail: MailQueue;
  sessions: SessionService;
}

const invalid = () => new DostupError('CODE_INVALID', { issues: [{ path: '/code', messageId: 'error.code_invalid' }] });

export function createResetService(deps: ResetServiceDeps) {
  const engine = (flows = deps.store.flows) => createFlowEngine({ flows, clock: deps.clock, random: deps.random });

  async function event(
    kind: 'recovery.code_failed' | 'recovery.failed' | 'recovery.expired',
    realm: string,
    userId: string | null,
    ctx: RequestContext,
    data: Record<string, unknown>,
  ) {
    await deps.store.events.append({ realm, kind, userId, ip: ctx.ip, userAgent: ctx.userAgent, data });
  }

  /** Kill the flow after too many wrong codes; another request may have done it already. */
  async function fail(flow: LoadedFlow<RecoveryState> | null) {
    if (flow && flow.state === 'code_sent')
      await engine()
        .advance(recoveryMachine, flow, 'failed', flow.data)
        .catch(() => null);
  }

  async function loadFlowById(realm: RealmPolicy, id: string | null): Promise<LoadedFlow<RecoveryState> | null> {
    if (!id) return null;
    const rec = await deps.store.flows.get(id);
    if (!rec || rec.kind !== 'recovery' || rec.realm !== realm.name) return null;
    return { record: rec, state: rec.state as RecoveryState, data: rec.data };
  }

  async function complete(realm: RealmPolicy, input: CompleteInput, ctx: RequestContext): Promise<{ userId: string }> {
    if (!realm.recovery.enabled) throw new DostupError('RECOVERY_DISABLED');
    if (input.password !== input.confirm) {
      throw new DostupError('VALIDATION_FAILED', {
        issues: [{ path: '/confirm', messageId: 'recovery.passwords_differ' }],
      });
    }
    assertPasswordSize(input.password);
    const early = await checkPassword(
      { ...realm.password, notEqualIdentifiers: false, historySize: 0 },
      input.password,
      { common: deps.common },
    );
    if (!early.ok) throw rejectedPassword(early.failures);
    const wait = await deps.limiter.consume(RECOVERY_BUCKETS.verifyPerIp, `${realm.name}:${ctx.ip ?? 'unknown'}`);
    if (wait > 0) throw new DostupError('RATE_LIMITED', { retryAfter: wait });

    // Find the secret to try, by the way the code came.
    let by: { id: string } | { realm: string; userId: string; purpose: string } | null = null;
    let maxAge = typedCodeMaxAgeSeconds(realm);
    let flow: LoadedFlow<RecoveryState> | null = null;
    const src = input.source;
    if ('link' in src) {
      by = { id: src.link.secretId };
      maxAge = linkMaxAgeSeconds(realm);
    } else if ('flow' in src) {
      flow = await engine().load(recoveryMachine, realm.name, src.flow.flowId, src.flow.binding);
      if (flow.state === 'failed') throw new DostupError('CODE_EXHAUSTED');
      if (flow.state !== 'code_sent') throw new DostupError('FLOW_STATE_INVALID');
      const userId = recoveryData(flow.data).userId;
      if (userId) by = { realm: realm.name, userId, purpose: RECOVERY_PURPOSE };
    } else {
      const u = await findRecoveryUser(deps.store.users, realm, identify(realm, src.typed));
      if (canSelfReset(u)) by = { realm: realm.name, userId: u.id, purpose: RECOVERY_PURPOSE };
    }

    if (!by) {
      // The pretend path (no such account, or not allowed to self-reset): behave like a wrong code,
      // counting tries on the flow so it dies after as many as a real one would.
      if (flow) {
        const d = recoveryData(flow.data);
        const wrong = d.wrongCodes + 1;
        const next = await engine()
          .advance(recoveryMachine, flow, 'code_sent', { ...flow.data, wrongCodes: wrong })
          .catch(() => null);
        if (next && wrong >= realm.recovery.code.maxAttempts) {
          await fail(next);
          throw new DostupError('CODE_EXHAUSTED');
        }
      }
      throw invalid();
    }

    const res = await deps.secrets.verify(deps.store.oneTimeSecrets, {
      by,
      purpose: RECOVERY_PURPOSE,
      secret: input.code,
      maxAgeSeconds: maxAge,
    });
    if (!res.ok) {
      if (res.reason === 'not_found' && 'id' in by) {
        // The answer is the same whatever the cause; the log says which it was (and, since a link
        // names the secret, whose), so "expired" counts expired links only, and a replayed (used) or
        // superseded link is visible as what it is.
        const why = await deps.store.oneTimeSecrets.whyUnusable(by.id, realm.name);
        await event(
          why?.reason === 'expired' ? 'recovery.expired' : 'recovery.code_failed',
          realm.name,
          why?.userId ?? null,
          ctx,
          { secret: by.id, reason: why?.reason ?? 'unknown' },
        );
      } else {
        // The event records whose code was tried: the user asked for, or the row the link named.
        const userId = 'userId' in by ? by.userId : (res.record?.userId ?? null);
        await event(res.reason === 'exhausted' ? 'recovery.failed' : 'recovery.code_failed', realm.name, userId, ctx, {
          reason: res.reason,
        });
      }
      if (res.reason === 'exhausted') {
        await fail(flow ?? (await loadFlowById(realm, res.record?.flowId ?? null)));
        throw new DostupError('CODE_EXHAUSTED');
      }
      throw invalid();
    }

    const secret = res.record;
    // A secret id from another realm's link is just a wrong code here.
    if (secret.realm !== realm.name || secret.purpose !== RECOVERY_PURPOSE) throw invalid();
    const user = await deps.store.users.getWithSecret(realm.name, secret.userId);
    if (!canSelfReset(user)) throw invalid();
    await checkWithAccount(realm, user, input.password);
    const hash = await deps.hasher.hash(input.password);
    const ownerFlow = flow ?? (await loadFlowById(realm, secret.flowId));

    const queued = await deps.store.transaction(async (tx) => {
      if (!(await deps.secrets.consume(tx.oneTimeSecrets, secret.id))) throw invalid(); // lost a race: single use
      await tx.users.setPasswordHash(user.id, hash, realm.password.historySize);
      await tx.oneTimeSecrets.invalidateAll(user.id, RECOVERY_PURPOSE);
      const ended = await tx.sessions.revokeAllForUser(user.id);
      if (ownerFlow && ownerFlow.state === 'code_sent') await completeFlow(tx, ownerFlow);
      const mail = await notifyChanged(tx, realm, user, ctx);
      for (const kind of ['recovery.completed', 'password.changed'] as const) {
        await tx.events.append({
          realm: realm.name,
          kind,
          userId: user.id,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          data: { sessionsEnded: ended, via: Object.keys(src)[0] },
        });
      }
      return mail;
    });
    deps.sessions.forgetUser(user.id);
    deps.mail.deliver(queued);
    return { userId: user.id };
  }

  async function completeFlow(tx: Repos, f: LoadedFlow<RecoveryState>) {
    // The flow may have moved (e.g. "send again" in another tab); the code was valid, so the reset stands.
    const e = createFlowEngine({ flows: tx.flows, clock: deps.clock, random: deps.random });
    const fresh = await tx.flows.get(f.record.id);
    if (fresh && fresh.state === 'code_sent')
      await e
        .advance(recoveryMachine, { record: fresh, state: 'code_sent', data: fresh.data }, 'completed', fresh.data)
        .catch(() => null);
  }

  async function notifyChanged(
    tx: Repos,
    realm: RealmPolicy,
    user: UserWithSecret & { email: string },
    ctx: RequestContext,
  ) {
    const locale = user.locale ?? ctx.locale;
    return deps.mail.enqueue(tx, {
      realm: realm.name,
      recipient: user.email,
      template: 'password-changed',
      locale,
      params: {
        realmName: realmTitle(realm, locale),
        timeZone: realm.locales.timeZone,
        when: deps.clock.now().toISOString(),
        ...(ctx.ip ? { ip: ctx.ip } : {}),
        signInLink: `${realm.baseUrl.replace(/\/+$/, '')}/r/${encodeURIComponent(realm.name)}/login`,
        ...(realm.branding.supportText?.[locale] ? { supportText: realm.branding.supportText[locale] } : {}),
      },
    });
  }

  /** Rules that need the account: not the login/e-mail, not one of the last N passwords (S2.5). */
  async function checkWithAccount(realm: RealmPolicy, user: UserWithSecret, password: string) {
    const n = realm.password.historySize;
    const res = await checkPassword(realm.password, password, {
      login: user.login,
      email: user.email,
      common: deps.common,
      history: async () => {
        // "The last N passwords" counts the current one.
        const hashes = [
          ...(user.passwordHash ? [user.passwordHash] : []),
          ...(await deps.store.users.passwordHistory(user.id, Math.max(0, n - 1))),
        ].slice(0, n);
        for (const h of hashes) if ((await deps.hasher.verify(h, password)).ok) return true;
        return false;
      },
    });
    if (!res.ok) throw rejectedPassword(res.failures);
  }

  return { complete };
}

function rejectedPassword(failures: { messageId: string; params?: Record<string, string | number> }[]) {
  return new DostupError('PASSWORD_REJECTED', {
    issues: failures.map((f) => ({
      path: '/password',
      messageId: f.messageId,
      ...(f.params ? { params: f.params } : {}),
    })),
  });
}

export type ResetService = ReturnType<typeof createResetService>;
