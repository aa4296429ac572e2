// Password recovery pages: "Forgot password?" (S1.2, S2.2, S4.1, S5.4), "mail sent — type the code
// here" (S1.2, S1.5, S4.2) and "new password" from the mailed link (S1.3, S4.3). Plain forms and POSTs,
// so they work without JavaScript; /assets/dostup.js only adds the "Show" toggle and a live countdown.
import { type Html, html } from '../html.ts';
import { layout, noticeBox, type PageChrome } from './layout.ts';

type IdentifyField = 'identifier' | 'login' | 'email';
type Translate = PageChrome['t'];

export interface PageNotice {
  kind: 'success' | 'info' | 'error';
  message: string;
}

export interface RecoveryRequestModel {
  chrome: PageChrome;
  action: string;
  csrfToken: string;
  /** `['identifier']`, or `['login', 'email']` when both must match one user (S2.2). */
  fields: IdentifyField[];
  identifierLabel: string;
  intro: string;
  values: { identifier?: string; login?: string; email?: string };
  error?: { message: string; field?: IdentifyField };
  backHref: string;
  /** "I already have a code": the reset form for a code that arrived on another device. */
  codeHref?: string;
}

export interface ResetFormModel {
  action: string;
  csrfToken: string;
  /** e.g. `{ s: secretId }` or `{ flow: id }`, rendered as hidden inputs. */
  hidden: Record<string, string>;
  /** Empty when the account is known from the flow or the link. */
  identifierFields: IdentifyField[];
  identifierLabel?: string;
  values: { identifier?: string; login?: string; email?: string; code?: string };
  codeLabel: string;
  codeHint?: string;
  codeInputMode: 'numeric' | 'text';
  /** Password advice shown under the fields (S4.3). */
  hints: string[];
  error?: {
    message: string;
    field?: 'code' | 'password' | 'confirm' | IdentifyField;
    /** One line per failed password rule. */
    details?: string[];
  };
  submitLabel?: string;
}

export interface RecoverySentModel {
  chrome: PageChrome;
  csrfToken: string;
  notice: string;
  advice?: string;
  resendAction: string;
  resendInSeconds: number;
  resendNotice?: PageNotice;
  form: ResetFormModel;
  backHref: string;
}

export interface ResetPageModel {
  chrome: PageChrome;
  form: ResetFormModel;
  backHref: string;
  notice?: PageNotice;
  /** A line under the heading; by default one that fits whether the link filled the code in or not. */
  intro?: string;
}

const ERROR_ID = 'form-error';
const SCRIPTS = ['/assets/dostup.js'];
const IDENTIFY_LABELS = { login: 'recovery.login_label', email: 'recovery.email_label' } as const;

/** The error summary, first in the card; failed password rules are listed under it, one per line. */
export function errorSummary(error: { message: string; details?: string[] } | undefined): Html | null {
  if (!error) return null;
  const details = error.details ?? [];
  return html`<div class="alert alert--error" role="alert"><div class="alert__body" id="${ERROR_ID}"><p class="alert__text">${error.message}</p>${
    details.length > 0 ? html`<ul class="alert__list">${details.map((d) => html`<li>${d}</li>`)}</ul>` : null
  }</div></div>`;
}

function pageNotice(n: PageNotice): Html {
  if (n.kind !== 'error') return noticeBox({ kind: n.kind, message: n.message });
  return html`<div class="alert alert--error" role="alert"><p class="alert__text">${n.message}</p></div>`;
}

function csrf(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/**
 * The aria attributes of one input. The error comes first in the description, so a screen reader
 * says what to fix before the hint; autofocus puts the user back where the fix is.
 */
function aria(isInvalid: boolean, hintIds: string[] = []): Html {
  const ids = [...(isInvalid ? [ERROR_ID] : []), ...hintIds];
  return html`${isInvalid ? html` aria-invalid="true"` : null}${ids.length > 0 ? html` aria-describedby="${ids.join(' ')}"` : null}${
    isInvalid ? html` autofocus` : null
  }`;
}

/**
 * Which identify fields the error marks. S2.2's "no such user or wrong e-mail" is about the pair, and
 * the server may name it `identifier`: then both shown fields are marked.
 */
function invalidFields(shown: IdentifyField[], field: string | undefined): Set<string> {
  if (!field) return new Set();
  if (field === 'identifier' && !shown.includes('identifier')) return new Set(shown);
  return new Set([field]);
}

function identifyField(
  t: Translate,
  field: IdentifyField,
  label: string | undefined,
  value: string | undefined,
  isInvalid: boolean,
): Html {
  const email = field === 'email';
  const text = field === 'identifier' ? (label ?? t('page.identifier_login_or_email')) : t(IDENTIFY_LABELS[field]);
  return html`<div class="field${isInvalid ? ' field--invalid' : ''}">
<label class="field__label" for="${field}">${text}</label>
<input class="field__input" id="${field}" name="${field}" type="${email ? 'email' : 'text'}" value="${value}" autocomplete="${
    email ? 'email' : 'username'
  }" autocapitalize="none" autocorrect="off" spellcheck="false" required${aria(isInvalid)}>
</div>`;
}

function errorTitle(t: Translate, heading: string, hasError: boolean): string {
  // The tab title is what a screen reader announces first; say there is an error before anything else.
  return hasError ? t('page.title_with_error', { title: heading }) : heading;
}

/**
 * The shared "code + new password" form (S1.3 order: received code, new password, confirmation,
 * "Show"; S4.3 advice under the fields). The page renders `errorSummary(m.error)` first in its card:
 * the fields point at it by id.
 */
export function resetForm(m: ResetFormModel, t: Translate): Html {
  const field = m.error?.field;
  const badIdentify = invalidFields(m.identifierFields, field);
  const codeHint = m.codeHint ? 'code-hint' : null;
  const hintsId = m.hints.length > 0 ? 'password-hints' : null;
  const fieldClass = (name: string) => (field === name ? 'field field--invalid' : 'field');
  return html`<form class="form" method="post" action="${m.action}">
${csrf(m.csrfToken)}
${Object.entries(m.hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}${m.identifierFields.map(
  (f) => identifyField(t, f, m.identifierLabel, m.values[f], badIdentify.has(f)),
)}
<div class="${fieldClass('code')}">
<label class="field__label" for="code">${m.codeLabel}</label>
${codeHint ? html`<p class="field__hint" id="${codeHint}">${m.codeHint}</p>` : null}
<input class="field__input field__input--code" id="code" name="code" type="text" value="${m.values.code}" autocomplete="one-time-code" inputmode="${
    m.codeInputMode
  }"${m.codeInputMode === 'text' ? html` autocapitalize="characters"` : null} autocorrect="off" spellcheck="false" required${aria(
    field === 'code',
    codeHint ? [codeHint] : [],
  )}>
</div>
<div class="${fieldClass('password')}">
<label class="field__label" for="password">${t('recovery.new_password')}</label>
<div class="field__group">
<input class="field__input" id="password" name="password" type="password" autocomplete="new-password" required data-password${aria(
    field === 'password',
    hintsId ? [hintsId] : [],
  )}>
<button class="button button--secondary field__toggle" type="button" data-toggle-password aria-controls="password confirm" aria-pressed="false" data-label-show="${t(
    'recovery.show_password',
  )}" data-label-hide="${t('recovery.hide_password')}" hidden>${t('recovery.show_password')}</button>
</div>
</div>
<div class="${fieldClass('confirm')}">
<label class="field__label" for="confirm">${t('recovery.confirm_password')}</label>
<input class="field__input" id="confirm" name="confirm" type="password" autocomplete="new-password" required data-password${aria(field === 'confirm')}>
</div>
${
  hintsId
    ? html`<div class="hints" id="${hintsId}"><p class="hints__title">${t('recovery.hints_title')}</p><ul class="hints__list">${m.hints.map(
        (h) => html`<li>${h}</li>`,
      )}</ul></div>`
    : null
}
<button class="button button--primary button--block" type="submit">${m.submitLabel ?? t('recovery.set_password')}</button>
</form>`;
}

export function recoveryRequestPage(m: RecoveryRequestModel): Html {
  const { t } = m.chrome;
  const heading = t('recovery.request_title');
  const bad = invalidFields(m.fields, m.error?.field);
  const body = html`${errorSummary(m.error)}
<h1 class="card__title">${heading}</h1>
<p class="card__intro">${m.intro}</p>
<form class="form" method="post" action="${m.action}">
${csrf(m.csrfToken)}
${m.fields.map((f) => identifyField(t, f, m.identifierLabel, m.values[f], bad.has(f)))}
<button class="button button--primary button--block" type="submit">${t('recovery.send_button')}</button>
</form>
<ul class="links">
${m.codeHref ? html`<li><a class="link" href="${m.codeHref}">${t('recovery.have_code')}</a></li>` : null}
<li><a class="link" href="${m.backHref}">${t('recovery.back_to_signin')}</a></li>
</ul>`;
  return layout({ ...m.chrome, title: errorTitle(t, heading, !!m.error) }, body);
}

/**
 * The wait text per plural form with a `{count}` slot, for the script's countdown (it has no
 * catalogue). Built from sample counts; a sample whose digits occur more than once in the text is
 * skipped, so the slot can only replace the count.
 */
function pluralTemplates(chrome: PageChrome, id: string): Html[] {
  const rules = new Intl.PluralRules(chrome.locale);
  const templates = new Map<string, string>();
  for (let n = 1; n < 200; n++) {
    const form = rules.select(n);
    if (templates.has(form)) continue;
    const text = chrome.t(id, { count: n });
    if (text.split(String(n)).length === 2) templates.set(form, text.replace(String(n), '{count}'));
  }
  return [...templates].map(([form, text]) => html` data-plural-${form}="${text}"`);
}

/** "Didn't get the e-mail?": the S1.5 advice (spam folder, then support) and "Send again". */
function resendSection(m: RecoverySentModel): Html {
  const { t } = m.chrome;
  const waiting = m.resendInSeconds > 0;
  // The server enforces the wait; without JS the button still submits and the server says "wait".
  const wait = waiting
    ? html`<p class="resend__wait" id="resend-wait" data-seconds="${m.resendInSeconds}"${pluralTemplates(
        m.chrome,
        'recovery.resend_wait_hint',
      )} data-ready="${t('recovery.resend_ready')}">${t('recovery.resend_wait_hint', { count: m.resendInSeconds })}</p>`
    : null;
  return html`<section class="section resend" aria-labelledby="resend-title">
<h2 class="section__title" id="resend-title">${t('recovery.resend_title')}</h2>
${m.advice ? html`<p class="resend__advice">${m.advice}</p>` : null}
<form class="resend__form" method="post" action="${m.resendAction}">
${csrf(m.csrfToken)}
<button class="button button--secondary" type="submit"${waiting ? html` aria-describedby="resend-wait"` : null}>${t('recovery.resend_button')}</button>
${wait}
</form>
</section>`;
}

export function recoverySentPage(m: RecoverySentModel): Html {
  const { t } = m.chrome;
  const heading = t('recovery.sent_title');
  const hasError = !!m.form.error || m.resendNotice?.kind === 'error';
  // Errors first (role="alert"). Then one piece of news, not a stack of boxes: "sent again" replaces
  // "sent", and after a wrong code the error is the news (the heading still says "check your e-mail").
  const resent = m.resendNotice && m.resendNotice.kind !== 'error' ? m.resendNotice : null;
  const news = resent ? pageNotice(resent) : m.form.error ? null : noticeBox({ kind: 'success', message: m.notice });
  const body = html`${errorSummary(m.form.error)}
${m.resendNotice?.kind === 'error' ? pageNotice(m.resendNotice) : null}
${news}
<h1 class="card__title">${heading}</h1>
<p class="card__intro">${t('recovery.sent_form_intro')}</p>
${resetForm(m.form, t)}
${resendSection(m)}
<ul class="links">
<li><a class="link" href="${m.backHref}">${t('recovery.back_to_signin')}</a></li>
</ul>`;
  return layout({ ...m.chrome, title: errorTitle(t, heading, hasError) }, body, { scripts: SCRIPTS });
}

/** Typed on another device, the account must be named too; from the link the code is already there. */
function defaultResetIntro(t: Translate, form: ResetFormModel): string {
  if (form.identifierFields.length > 0) return t('recovery.reset_intro_typed');
  return form.values.code ? t('recovery.reset_intro_link') : t('recovery.reset_intro');
}

export function resetPage(m: ResetPageModel): Html {
  const { t } = m.chrome;
  const heading = t('recovery.reset_title');
  const hasError = !!m.form.error || m.notice?.kind === 'error';
  const intro = m.intro ?? defaultResetIntro(t, m.form);
  const body = html`${errorSummary(m.form.error)}
${m.notice ? pageNotice(m.notice) : null}
<h1 class="card__title">${heading}</h1>
<p class="card__intro">${intro}</p>
${resetForm(m.form, t)}
<ul class="links">
<li><a class="link" href="${m.backHref}">${t('recovery.back_to_signin')}</a></li>
</ul>`;
  return layout({ ...m.chrome, title: errorTitle(t, heading, hasError) }, body, { scripts: SCRIPTS });
}
