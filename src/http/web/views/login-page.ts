// The sign-in form (S1.1: login, password, "remember me", "Forgot password?"). It works without
// JavaScript: a plain POST, the server answers with this page again (error) or a redirect.
import { type Html, html } from '../html.ts';
import { layout, noticeBox, type PageChrome } from './layout.ts';

export interface LoginPageModel {
  chrome: PageChrome;
  action: string;
  csrfToken: string;
  values: { identifier: string; remember: boolean };
  /** Says what to type: "Login", "Login or e-mail"… — the realm decides which identifiers sign in. */
  identifierLabel: string;
  showRemember: boolean;
  forgotHref: string;
  /** Without `field` the error belongs to the password: S2.1's generic "wrong login or password". */
  error?: { message: string; field?: 'identifier' | 'password' };
  notice?: { kind: 'success' | 'info'; message: string };
}

const ERROR_ID = 'form-error';

/** The aria attributes that tie a field to the error summary, or nothing for a field without error. */
function invalid(isInvalid: boolean): Html | null {
  // autofocus puts the user back where the fix is; the screen reader then reads the field's
  // description, which is the error text.
  return isInvalid ? html` aria-invalid="true" aria-describedby="${ERROR_ID}" autofocus` : null;
}

export function loginPage(m: LoginPageModel): Html {
  const { t } = m.chrome;
  const errorField = m.error ? (m.error.field ?? 'password') : null;
  const heading = t('page.signin_title');
  // The tab title is what a screen reader announces first; say there is an error before anything else.
  const title = m.error ? t('page.title_with_error', { title: heading }) : heading;

  const body = html`${
    m.error
      ? html`<div class="alert alert--error" role="alert"><p class="alert__text" id="${ERROR_ID}">${m.error.message}</p></div>`
      : null
  }
${m.notice ? noticeBox(m.notice) : null}
<h1 class="card__title">${heading}</h1>
<form class="form" method="post" action="${m.action}">
<input type="hidden" name="_csrf" value="${m.csrfToken}">
<div class="field${errorField === 'identifier' ? ' field--invalid' : ''}">
<label class="field__label" for="identifier">${m.identifierLabel}</label>
<input class="field__input" id="identifier" name="identifier" type="text" value="${m.values.identifier}" autocomplete="username" autocapitalize="none" autocorrect="off" spellcheck="false" required${invalid(errorField === 'identifier')}>
</div>
<div class="field${errorField === 'password' ? ' field--invalid' : ''}">
<label class="field__label" for="password">${t('page.password')}</label>
<input class="field__input" id="password" name="password" type="password" autocomplete="current-password" required${invalid(errorField === 'password')}>
</div>
<div class="form__row">
${
  m.showRemember
    ? html`<div class="check"><input class="check__input" id="remember" name="remember" type="checkbox" value="1"${
        m.values.remember ? html` checked` : null
      }><label class="check__label" for="remember">${t('page.remember_me')}</label></div>`
    : null
}
${m.forgotHref ? html`<a class="link form__forgot" href="${m.forgotHref}">${t('page.forgot_password')}</a>` : null}
</div>
<button class="button button--primary button--block" type="submit">${t('page.signin_button')}</button>
</form>`;

  return layout({ ...m.chrome, title }, body);
}
