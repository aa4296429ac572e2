// The `email-link` method serving `recovery`: the mailed link carries the secret's id and the code,
// and opens the reset form with the code filled in (S1.2). Following the link (GET) never consumes
// anything — mail scanners fetch links, some even run their scripts; only the POST with the new
// password does. The link is built from the realm's configured base URL, never the request's Host.
import type { RealmPolicy } from '../../realm/policy-schema.ts';

export const RECOVERY_PURPOSE = 'recovery';

export function recoveryLink(realm: RealmPolicy, secretId: string, code: string): string {
  const base = realm.baseUrl.replace(/\/+$/, '');
  const q = new URLSearchParams({ s: secretId, code });
  return `${base}/r/${encodeURIComponent(realm.name)}/reset?${q.toString()}`;
}

/** A code that arrived through the link lives as long as the link (the secret row's own expiry). */
export const linkMaxAgeSeconds = (realm: RealmPolicy) => realm.recovery.code.linkLifetimeMinutes * 60;
