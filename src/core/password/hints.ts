// The advice lines shown under the password fields (S4.3), derived from the realm's policy so the page
// never promises something the server does not check, or checks something the page does not say.
import type { PasswordPolicy } from '../realm/policy-schema.ts';

/** One text of the realm's own `advice`, per locale. */
export type LocalizedText = PasswordPolicy['advice'][number];

/**
 * One advice line. `messageId` is always a key of locales/<locale>/password.json (`password.<key>`).
 * The realm's own advice lines come as `password.hint.custom` (whose message is just `{text}`) with
 * `text` set: the renderer fills `{text}` with `text[locale]`, falling back to the realm's default
 * locale. One shape for every line keeps the template a single loop.
 */
export interface Hint {
  messageId: string;
  params?: Record<string, string | number>;
  text?: LocalizedText;
}

/** Advice lines for `policy`, in the order they are shown. */
export function passwordHints(policy: PasswordPolicy): Hint[] {
  const hints: Hint[] = [];
  hints.push({ messageId: 'password.hint.length', params: { min: policy.minLength, count: policy.maxLength } });

  if (policy.allowedCharacters === 'latin-digits') {
    hints.push({ messageId: 'password.hint.allowed_latin_digits' });
  } else if (policy.allowedCharacters === 'latin-digits-special') {
    hints.push({
      messageId: 'password.hint.allowed_latin_digits_special',
      params: { specials: policy.specialCharacters },
    });
  } else {
    // NIST: tell people that spaces and any letters are fine — passphrases are the strong choice.
    hints.push({ messageId: 'password.hint.allowed_any' });
  }

  if (policy.requireLetter) hints.push({ messageId: 'password.hint.needs_letter' });
  if (policy.requireLower) hints.push({ messageId: 'password.hint.needs_lower' });
  if (policy.requireUpper) hints.push({ messageId: 'password.hint.needs_upper' });
  if (policy.requireDigit) hints.push({ messageId: 'password.hint.needs_digit' });
  if (policy.requireSpecial) {
    hints.push(
      policy.allowedCharacters === 'any'
        ? { messageId: 'password.hint.needs_special' }
        : { messageId: 'password.hint.needs_special_from', params: { specials: policy.specialCharacters } },
    );
  }

  if (policy.notEqualIdentifiers) hints.push({ messageId: 'password.hint.not_identifier' });
  if (policy.historySize === 1) hints.push({ messageId: 'password.hint.not_previous' });
  if (policy.historySize > 1)
    hints.push({ messageId: 'password.hint.not_reused', params: { count: policy.historySize } });
  if (policy.rejectCommon) hints.push({ messageId: 'password.hint.not_common' });

  for (const text of policy.advice) hints.push({ messageId: 'password.hint.custom', text });
  return hints;
}
