// The `email-code` method serving `recovery`: one mail carries the code and the link (S1.2, S4.1).
// The code can be typed on any device; typed by hand it lives `codeLifetimeMinutes` (shorter than
// the link, because typing is the guessable path), and every try is counted before comparing.
import type { Locale, User } from '../../model.ts';
import type { MailQueue, QueuedMail, Repos } from '../../ports.ts';
import { realmTitle } from '../../realm/policy.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import type { OneTimeSecrets } from '../../secrets/one-time-secrets.ts';
import { RECOVERY_PURPOSE, recoveryLink } from '../email-link/recovery.ts';

export const typedCodeMaxAgeSeconds = (realm: RealmPolicy) => realm.recovery.code.codeLifetimeMinutes * 60;

export interface RecoveryMailTo {
  user: User & { email: string };
  flowId: string;
  requestLocale: Locale;
}

/**
 * Issue a new code for each entry (older ones die) and queue their mails — inside the caller's
 * transaction, in one round of statements for the whole batch. Entries for the same user end as
 * if issued one after the other: the last one's code is the live one. Returns the queued mail, for
 * `MailQueue.deliver` once the transaction has committed.
 */
export async function issueRecoveryMails(
  tx: Repos,
  deps: { secrets: OneTimeSecrets; mail: MailQueue },
  realm: RealmPolicy,
  to: RecoveryMailTo[],
): Promise<QueuedMail[]> {
  if (to.length === 0) return [];
  const c = realm.recovery.code;
  const issued = await deps.secrets.issueMany(
    tx.oneTimeSecrets,
    to.map((t) => ({
      realm: realm.name,
      userId: t.user.id,
      purpose: RECOVERY_PURPOSE,
      flowId: t.flowId,
      format: c.format,
      length: c.length,
      ttlSeconds: Math.max(c.linkLifetimeMinutes, c.codeLifetimeMinutes) * 60,
      maxAttempts: c.maxAttempts,
    })),
  );
  return deps.mail.enqueueMany(
    tx,
    to.map(({ user, requestLocale }, i) => {
      const code = issued[i]!;
      // S2.4: the mail speaks the user's language, not the language of whoever asked.
      const locale = user.locale ?? requestLocale;
      return {
        realm: realm.name,
        recipient: user.email,
        template: 'recovery-code',
        locale,
        params: {
          realmName: realmTitle(realm, locale),
          login: user.login ?? user.email,
          code: code.secret,
          link: recoveryLink(realm, code.id, code.secret),
          linkLifetimeMinutes: c.linkLifetimeMinutes,
          codeLifetimeMinutes: c.codeLifetimeMinutes,
          ...(realm.branding.supportText?.[locale] ? { supportText: realm.branding.supportText[locale] } : {}),
        },
      };
    }),
  );
}
