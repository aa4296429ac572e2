// The mails Dostup sends, rendered from the message catalogue (`locales/<loc>/mail.json`) in the
// USER's locale: a subject, a plain-text part (always — some people and most filters read only that)
// and a simple HTML part in the realm's colour. Everything interpolated into HTML goes through the
// escaping `html` template; the subject is the only header built here and it is flattened to one line
// (see headerText), so no parameter can add a header.
import type { Catalog, MessageParams } from '../core/i18n/catalog.ts';
import { formatDuration } from '../core/i18n/duration.ts';
import type { Locale } from '../core/model.ts';
import type { MailSource } from '../core/ports.ts';
import type { RealmPolicy } from '../core/realm/policy-schema.ts';
import { type Html, html } from '../http/web/html.ts';

export const MAIL_TEMPLATES = ['recovery-code', 'password-changed', 'recovery-unknown-account'] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** The realm's branding (policy `branding` section); absent for realm-less mail. */
export type MailBranding = Partial<RealmPolicy['branding']>;

/**
 * The template or its parameters cannot make a mail (unknown template, a missing code…). Retrying
 * cannot fix that, so the worker abandons such a message at once instead of backing off.
 */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const DEFAULT_COLOR = '#1f5fbf';
const COLOR = /^#[0-9a-fA-F]{6}$/;

/**
 * One line of printable text for a header. The catalogue's subjects are ours, but they embed the
 * realm's name, which an operator typed: CR/LF (or any control character) there must not be able to
 * start a new header line. Nodemailer also encodes headers; this does not rely on it.
 */
export function headerText(s: string, max = 200): string {
  return s
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

// --- parameters: they arrive as JSON from a decrypted payload, so each is checked, never trusted ---

function str(params: Record<string, unknown>, key: string): string | undefined {
  const v = params[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new TemplateError(`mail parameter ${key} must be a string`);
  return v;
}

function need(params: Record<string, unknown>, key: string): string {
  const v = str(params, key);
  if (v === undefined) throw new TemplateError(`mail parameter ${key} is missing`);
  return v;
}

/** Only absolute http(s) links: `javascript:` or `data:` in a mail's href would be an attack. */
function link(params: Record<string, unknown>, key: string): string | undefined {
  const v = str(params, key);
  if (v === undefined) return undefined;
  if (!/^https?:\/\/[^\s<>"'`\p{Cc}]+$/u.test(v))
    throw new TemplateError(`mail parameter ${key} must be an http(s) URL`);
  return v;
}

function minutes(params: Record<string, unknown>, key: string): number {
  const v = params[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new TemplateError(`mail parameter ${key} must be a positive number`);
  return v;
}

/**
 * formatDuration over the mail's own plural forms. The shared `time.*` forms are nominative
 * ("1 минута"); after "действует" Russian needs the accusative ("действует 1 минуту", "21 минуту"),
 * so mail.json carries `duration_*` forms and the lookups are redirected there.
 */
function lifetime(catalog: Catalog, locale: Locale, mins: number): string {
  const accusative: Catalog = {
    ...catalog,
    t: (l, id, p) => catalog.t(l, id.startsWith('time.') ? `mail.duration_${id.slice('time.'.length)}` : id, p),
  };
  return formatDuration(accusative, locale, mins);
}

function formatWhen(locale: Locale, iso: string, timeZone: string | undefined): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new TemplateError('mail parameter when must be an ISO date');
  const opts: Intl.DateTimeFormatOptions = {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  };
  try {
    return new Intl.DateTimeFormat(locale, { ...opts, timeZone: timeZone ?? 'UTC' }).format(d);
  } catch {
    return new Intl.DateTimeFormat(locale, { ...opts, timeZone: 'UTC' }).format(d); // unknown zone name
  }
}

// --- layout ---

/** A mail is a list of blocks; each renders to a paragraph of text and a piece of HTML. */
type Block =
  | { kind: 'p'; text: string; muted?: boolean }
  | { kind: 'button'; label: string; href: string; fallback: string }
  | { kind: 'code'; code: string };

/** White or near-black text on the realm colour, whichever reads better (WCAG relative luminance). */
function textOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.35 ? '#18202c' : '#ffffff';
}

// Mail clients ignore <style> blocks and classes unevenly, so presentation is inline here (the site's
// CSP does not apply to mail). Values are our constants or the validated #rrggbb colour.
const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Arial,sans-serif;";
const P = `margin:0 0 16px;font-size:16px;line-height:1.5;color:#18202c;${FONT}`;
const MUTED = `margin:0 0 12px;font-size:13px;line-height:1.5;color:#555f6f;${FONT}`;

function blockText(b: Block): string {
  if (b.kind === 'p') return b.text;
  if (b.kind === 'code') return b.code;
  return `${b.label}:\n${b.href}`;
}

function blockHtml(b: Block, color: string): Html {
  if (b.kind === 'p') return html`<p style="${b.muted ? MUTED : P}">${b.text}</p>`;
  if (b.kind === 'code') {
    return html`<p style="${P}"><strong style="display:inline-block;padding:8px 16px;border-radius:8px;background:#f3f5f8;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:24px;letter-spacing:4px;color:#18202c;">${b.code}</strong></p>`;
  }
  // A light realm colour is fine behind dark button text, but unreadable as the colour of a plain link.
  const linkColor = textOn(color) === '#ffffff' ? color : '#18202c';
  const button = `display:inline-block;padding:12px 24px;border-radius:8px;background:${color};color:${textOn(color)};font-size:16px;font-weight:600;text-decoration:none;${FONT}`;
  return html`<p style="${P}"><a href="${b.href}" style="${button}">${b.label}</a></p>
<p style="${MUTED}">${b.fallback}<br><a href="${b.href}" style="color:${linkColor};word-break:break-all;">${b.href}</a></p>`;
}

function layout(
  locale: Locale,
  subject: string,
  preheader: string,
  realm: string,
  color: string,
  blocks: Block[],
  footer: string[],
): string {
  const doc = html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${subject}</title>
</head>
<body style="margin:0;padding:0;background:#f4f6fa;">
<div style="display:none;max-height:0;overflow:hidden;">${preheader}</div>
<div style="max-width:560px;margin:0 auto;padding:24px 16px;">
<div style="border-top:4px solid ${color};border-radius:8px;background:#ffffff;padding:24px 24px 8px;">
<p style="margin:0 0 20px;font-size:18px;font-weight:700;color:#18202c;${FONT}">${realm}</p>
${blocks.map((b) => blockHtml(b, color))}
</div>
<div style="padding:16px 8px 0;">
${footer.map((f) => html`<p style="${MUTED}white-space:pre-line;">${f}</p>`)}
</div>
</div>
</body>
</html>
`;
  return doc.value;
}

// --- the templates ---

interface Draft {
  subject: string;
  preheader: string;
  blocks: Block[];
}

type Drafter = (
  t: (key: string, p?: MessageParams) => string,
  p: Record<string, unknown>,
  ctx: { realm: string; catalog: Catalog; locale: Locale },
) => Draft;

function greeting(t: (key: string, p?: MessageParams) => string, p: Record<string, unknown>): Block {
  const name = str(p, 'userName');
  return { kind: 'p', text: name ? t('greeting', { name }) : t('greeting_anonymous') };
}

const DRAFTERS: Record<MailTemplate, Drafter> = {
  'recovery-code': (t, p, { realm, catalog, locale }) => {
    const href = link(p, 'link');
    const code = str(p, 'code');
    if (!href && !code) throw new TemplateError('recovery-code needs a link or a code');
    const blocks: Block[] = [greeting(t, p), { kind: 'p', text: t('recovery_code_intro', { realm }) }];
    if (href) {
      blocks.push({ kind: 'button', label: t('recovery_code_button'), href, fallback: t('link_fallback') });
      const duration = lifetime(catalog, locale, minutes(p, 'linkLifetimeMinutes'));
      blocks.push({ kind: 'p', text: t('recovery_code_link_lifetime', { duration }) });
    }
    if (code) {
      blocks.push({ kind: 'p', text: t(href ? 'recovery_code_code_lead' : 'recovery_code_code_only_lead') });
      blocks.push({ kind: 'code', code });
      const duration = lifetime(catalog, locale, minutes(p, 'codeLifetimeMinutes'));
      blocks.push({ kind: 'p', text: t('recovery_code_code_lifetime', { duration }) });
    }
    blocks.push({ kind: 'p', text: t('recovery_code_never_share') }, { kind: 'p', text: t('recovery_code_not_you') });
    return { subject: t('recovery_code_subject', { realm }), preheader: t('recovery_code_preheader'), blocks };
  },

  'password-changed': (t, p, { realm, locale }) => {
    const when = formatWhen(locale, need(p, 'when'), str(p, 'timeZone'));
    const ip = str(p, 'ip');
    const blocks: Block[] = [
      greeting(t, p),
      { kind: 'p', text: t('password_changed_intro', { realm, when }) },
      ...(ip ? [{ kind: 'p', text: t('password_changed_ip', { ip }) } as Block] : []),
      { kind: 'p', text: t('password_changed_if_you') },
      { kind: 'p', text: t('password_changed_not_you') },
    ];
    const href = link(p, 'signInLink');
    if (href) blocks.push({ kind: 'button', label: t('password_changed_button'), href, fallback: t('link_fallback') });
    return { subject: t('password_changed_subject', { realm }), preheader: t('password_changed_preheader'), blocks };
  },

  // Sent instead of a reset mail when nobody has this address, so the answer on the page stays the
  // same for known and unknown accounts while the address's owner still learns what happened.
  'recovery-unknown-account': (t, _p, { realm }) => ({
    subject: t('unknown_account_subject', { realm }),
    preheader: t('unknown_account_preheader'),
    blocks: [
      { kind: 'p', text: t('greeting_anonymous') },
      { kind: 'p', text: t('unknown_account_intro', { realm }) },
      { kind: 'p', text: t('unknown_account_other_address') },
      { kind: 'p', text: t('unknown_account_not_you') },
    ],
  }),
};

const isTemplate = (s: string): s is MailTemplate => (MAIL_TEMPLATES as readonly string[]).includes(s);

/** Everything of a mail but its HTML: every check a rendering makes is made here. */
function compose(
  catalog: Catalog,
  template: string,
  locale: Locale,
  params: Record<string, unknown>,
  branding?: MailBranding | null,
) {
  if (!isTemplate(template)) throw new TemplateError(`unknown mail template ${JSON.stringify(template)}`);
  const realm = str(params, 'realmName') ?? branding?.name?.[locale] ?? branding?.name?.ru ?? branding?.name?.en;
  if (!realm) throw new TemplateError('mail parameter realmName is missing');
  const t = (key: string, p?: MessageParams) => catalog.t(locale, `mail.${key}`, p);
  const draft = DRAFTERS[template](t, params, { realm, catalog, locale });
  const support = str(params, 'supportText') ?? branding?.supportText?.[locale];
  const footer = [...(support ? [support] : []), t('automatic')];
  const subject = headerText(draft.subject);
  const text = `${[...draft.blocks.map(blockText), '—', ...footer].join('\n\n')}\n`;
  return { realm, draft, footer, subject, text };
}

export function renderMail(
  catalog: Catalog,
  template: string,
  locale: Locale,
  params: Record<string, unknown>,
  branding?: MailBranding | null,
): RenderedMail {
  const { realm, draft, footer, subject, text } = compose(catalog, template, locale, params, branding);
  const color = branding?.primaryColor && COLOR.test(branding.primaryColor) ? branding.primaryColor : DEFAULT_COLOR;
  return { subject, text, html: layout(locale, subject, draft.preheader, realm, color, draft.blocks, footer) };
}

/** renderMail of a mail's source: what the worker sends, and what the dev mailbox shows again later. */
export const renderSource = (catalog: Catalog, s: MailSource): RenderedMail =>
  renderMail(catalog, s.template, s.locale, s.params, s.branding);

/**
 * Subject and plain text of a mail's source, without the HTML part — throws exactly when
 * renderSource would (the HTML is built from the same checked parts and cannot fail on its own).
 */
export function renderSourceText(catalog: Catalog, s: MailSource): Omit<RenderedMail, 'html'> {
  const { subject, text } = compose(catalog, s.template, s.locale, s.params, s.branding);
  return { subject, text };
}
