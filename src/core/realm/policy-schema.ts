// The realm policy: one document (YAML or JSON) per portal, validated against this schema.
// The schema is written once here and gives the validator, the TypeScript type and the published
// JSON Schema (`dostup realm schema`, GET /api/realm-policy.schema.json). New features add a section;
// every section has defaults, so an old realm file stays valid when a section is added.
import Type, { type Static } from 'typebox';

const Localized = Type.Object(
  { ru: Type.Optional(Type.String({ maxLength: 500 })), en: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false, description: 'A text per locale; the default locale is used when one is missing.' },
);

export const IdentifierKind = Type.Union([Type.Literal('login'), Type.Literal('email'), Type.Literal('phone')]);
export type IdentifierKind = Static<typeof IdentifierKind>;

export const PasswordPolicySchema = Type.Object(
  {
    minLength: Type.Integer({ minimum: 4, maximum: 256, default: 12 }),
    maxLength: Type.Integer({ minimum: 8, maximum: 1024, default: 128 }),
    /** Character classes that must each appear at least once (S2.5, S3.6). NIST 800-63B-4 says none. */
    requireLower: Type.Boolean({ default: false }),
    requireUpper: Type.Boolean({ default: false }),
    requireDigit: Type.Boolean({ default: false }),
    requireSpecial: Type.Boolean({ default: false }),
    requireLetter: Type.Boolean({ default: false }),
    /**
     * Which characters may appear at all: `any` (every printable Unicode character, the NIST default),
     * `latin-digits` (S2.5: A–Z, a–z, 0–9 only), `latin-digits-special` (S3.6: plus `specialCharacters`).
     */
    allowedCharacters: Type.Union(
      [Type.Literal('any'), Type.Literal('latin-digits'), Type.Literal('latin-digits-special')],
      { default: 'any' },
    ),
    specialCharacters: Type.String({ minLength: 1, maxLength: 64, default: '!@#$%^&*()-_=+[]{};:,.<>/?~' }),
    /** Refuse a password equal to the user's login or e-mail (case-insensitive). */
    notEqualIdentifiers: Type.Boolean({ default: true }),
    /** Refuse any of the last N passwords (S2.5: 3). 0 turns the history off. */
    historySize: Type.Integer({ minimum: 0, maximum: 24, default: 0 }),
    /** Refuse passwords from the built-in common-password list (Russian and English, both layouts). */
    rejectCommon: Type.Boolean({ default: true }),
    /** Extra advice lines shown under the fields (S3.6: "do not reuse the signature's password"). */
    advice: Type.Array(Localized, { maxItems: 5, default: [] }),
  },
  { additionalProperties: false, default: {} },
);
export type PasswordPolicy = Static<typeof PasswordPolicySchema>;

export const SessionPolicySchema = Type.Object(
  {
    /** Minutes without activity after which a session ends. */
    idleMinutes: Type.Integer({ minimum: 1, maximum: 60 * 24 * 30, default: 60 * 8 }),
    /** Hours after sign-in after which a session ends whatever the activity (no "remember me"). */
    absoluteHours: Type.Integer({ minimum: 1, maximum: 24 * 30, default: 24 }),
    /** Days a "remember me" session lives; its cookie persists for this long. 0 hides the checkbox. */
    rememberMeDays: Type.Integer({ minimum: 0, maximum: 365, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);
export type SessionPolicy = Static<typeof SessionPolicySchema>;

export const SignInPolicySchema = Type.Object(
  {
    /** Which identifiers a person may type into the "login" field. */
    identifiers: Type.Array(IdentifierKind, { minItems: 1, uniqueItems: true, default: ['login', 'email'] }),
    /**
     * `generic`: wrong login or wrong password give one message (S2.1) — the safe default.
     * `reveal-unknown`: an unknown account is named as such (S1.4). Opt-in; warned about at start-up.
     */
    errorMode: Type.Union([Type.Literal('generic'), Type.Literal('reveal-unknown')], { default: 'generic' }),
  },
  { additionalProperties: false, default: {} },
);

export const LocalePolicySchema = Type.Object(
  {
    default: Type.Union([Type.Literal('ru'), Type.Literal('en')], { default: 'ru' }),
    available: Type.Array(Type.Union([Type.Literal('ru'), Type.Literal('en')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['ru', 'en'],
    }),
    /** IANA time zone for times written in mail ("password changed at 14:05"). */
    timeZone: Type.String({ pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$', maxLength: 64, default: 'UTC' }),
  },
  { additionalProperties: false, default: {} },
);

export const BrandingSchema = Type.Object(
  {
    /** The portal's name in the page header and in mail. */
    name: Type.Optional(Localized),
    /** An absolute https URL or a path on this server. */
    logoUrl: Type.Optional(Type.String({ maxLength: 2000, pattern: '^(https://|/)[^\\s"\'<>]*$' })),
    primaryColor: Type.String({ pattern: '^#[0-9a-fA-F]{6}$', default: '#1f5fbf' }),
    backgroundColor: Type.String({ pattern: '^#[0-9a-fA-F]{6}$', default: '#f4f6fa' }),
    supportText: Type.Optional(Localized),
  },
  { additionalProperties: false, default: {} },
);

export const RecoveryPolicySchema = Type.Object(
  {
    /** Offer "Forgot password?" at all. */
    enabled: Type.Boolean({ default: true }),
    /**
     * What the person types to start: `login` (S1.2, S5.4), `email` (S4.1), `login-and-email` — both must
     * match one user (S2.2) — or `login-or-email`.
     */
    identifyBy: Type.Union(
      [Type.Literal('login'), Type.Literal('email'), Type.Literal('login-and-email'), Type.Literal('login-or-email')],
      { default: 'login-or-email' },
    ),
    code: Type.Object(
      {
        /** `uuid` (S1.2), `digits`, or `control-string` — letters and digits (S4.1's check word). */
        format: Type.Union([Type.Literal('uuid'), Type.Literal('digits'), Type.Literal('control-string')], {
          default: 'digits',
        }),
        /** Length for `digits` and `control-string` (ignored for `uuid`). */
        length: Type.Integer({ minimum: 6, maximum: 32, default: 8 }),
        /** How long the mailed link works (S2.3: the mail says how long). */
        linkLifetimeMinutes: Type.Integer({ minimum: 5, maximum: 24 * 60, default: 30 }),
        /** How long the code works when typed by hand (shorter: a typed code is the guessable path). */
        codeLifetimeMinutes: Type.Integer({ minimum: 2, maximum: 24 * 60, default: 10 }),
        /** Wrong tries before the code and its flow are dead. */
        maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * `hide` (default): the same answer whether or not the account exists, and no mail.
     * `hide-and-notify`: the same answer; an address with no account gets a "someone asked, but there is
     * no account here" notice. `reveal`: say so on the page (S1.4, S2.2) — opt-in, warned at start-up.
     */
    unknownAccounts: Type.Union([Type.Literal('hide'), Type.Literal('hide-and-notify'), Type.Literal('reveal')], {
      default: 'hide',
    }),
    /** Seconds before "send again" works (the page shows a countdown-free hint; the server enforces it). */
    resendCooldownSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 60 }),
    /** Texts shown on the "mail sent" page (S1.5 advice, S4.2 "contact your administrator"). */
    sentAdvice: Type.Optional(Localized),
  },
  { additionalProperties: false, default: {} },
);
export type RecoveryPolicy = Static<typeof RecoveryPolicySchema>;

export const RealmPolicySchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    /** Realm id: used in URLs (`/r/{name}/…`) and the CLI. */
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    displayName: Type.Optional(Localized),
    /**
     * The realm's public base URL. Every link the server builds (mail, redirects) starts with it;
     * the request's Host header is never used for that.
     */
    baseUrl: Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$', maxLength: 500 }),
    signIn: SignInPolicySchema,
    password: PasswordPolicySchema,
    sessions: SessionPolicySchema,
    locales: LocalePolicySchema,
    branding: BrandingSchema,
    recovery: RecoveryPolicySchema,
  },
  {
    additionalProperties: false,
    $id: 'https://dostup.dev/schemas/realm-policy.json',
    title: 'Dostup realm policy',
  },
);
export type RealmPolicy = Static<typeof RealmPolicySchema>;
