// The `email-code` method serving `recovery`: one mail carries the code and the link (S1.2, S4.1).
// The code can be typed on any device; typed by hand it lives `codeLifetimeMinutes` (shorter than
// the link, because typing is the guessable path), and every try is counted before comparing.
import type { Locale, User } from '../../model.ts';
import type { MailQueue, Repos } from '../../ports.ts';
import { realmTitle } from '../../realm/policy.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import type { OneTimeSecrets } from '../../secrets/one-time-secrets.ts';
import { RECOVERY_PURPOSE, recoveryLink } from '../email-link/recovery.ts';

export const typedCodeMaxAgeSeconds = (realm: RealmPolicy) => realm.recovery.code.codeLifetimeMinutes * 60;

/** Issue a new code (older ones die) and queue the mail — inside the caller's transaction. */
export async function issueRecoveryMail(
  tx: Repos,
  deps: { secrets: OneTimeSecrets; mail: MailQueue },
  realm: RealmPolicy,
  user: User & { email: string },
  flowId: string,
  requestLocale: Locale,
): Promise<{ secretId: string }> {
  const c = realm.recovery.code;
  const issued = await deps.secrets.issue(tx.oneTimeSecrets, {
    realm: realm.name,
    userId: user.id,
    purpose: RECOVERY_PURPOSE,
    flowId,
    format: c.format,
    length: c.length,
    ttlSeconds: Math.max(c.linkLifetimeMinutes, c.codeLifetimeMinutes) * 60,
    maxAttempts: c.maxAttempts,
  });
  // S2.4: the mail speaks the user's language, not the language of whoever asked.
  const locale = user.locale ?? requestLocale;
  await deps.mail.enqueue(tx, {
    realm: realm.name,
    recipient: user.email,
    template: 'recovery-code',
    locale,
    params: {
      realmName: realmTitle(realm, locale),
      login: user.login ?? user.email,
      code: issued.secret,
      link: recoveryLink(realm, issued.id, issued.secret),
      linkLifetimeMinutes: c.linkLifetimeMinutes,
      codeLifetimeMinutes: c.codeLifetimeMinutes,
      ...(realm.branding.supportText?.[locale] ? { supportText: realm.branding.supportText[locale] } : {}),
    },
  });
  return { secretId: issued.id };
}
