// The signed-in person's page: who they are, sign-out, and their sessions with a way to end each one
// (a lost phone or a shared computer is ended from here, without JavaScript: one small form per row).
import { type Html, html } from '../html.ts';
import { layout, noticeBox, type PageChrome } from './layout.ts';
import { describeUserAgent } from './user-agent.ts';

export interface AccountSession {
  id: string;
  current: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  remember: boolean;
  ip: string | null;
  userAgent: string | null;
  revokeAction: string;
}

export interface AccountPageModel {
  chrome: PageChrome;
  csrfToken: string;
  user: { login: string | null; email: string | null; phone: string | null; rights: string[] };
  sessions: AccountSession[];
  logoutAction: string;
  notice?: { kind: 'success' | 'info'; message: string };
}

type T = PageChrome['t'];

function deviceName(t: T, userAgent: string | null): string {
  const { browser, os } = describeUserAgent(userAgent);
  if (browser && os) return t('page.session_device', { browser, os });
  return browser ?? os ?? t('page.session_device_unknown');
}

function csrf(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function sessionItem(m: AccountPageModel, s: AccountSession, index: number, when: (d: Date) => Html): Html {
  const { t } = m.chrome;
  // Ids from the position, not from the session id: the id is a secret-ish handle and needs no
  // exposure beyond the form action the server chose.
  const headingId = `session-${index + 1}`;
  const row = (label: string, value: Html | string) =>
    html`<div class="session__fact"><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`<li class="session${s.current ? ' session--current' : ''}">
<div class="session__head">
<h3 class="session__device" id="${headingId}">${deviceName(t, s.userAgent)}</h3>
${s.current ? html`<span class="badge badge--current">${t('page.session_current')}</span>` : null}
${s.remember ? html`<span class="badge">${t('page.session_remembered')}</span>` : null}
</div>
<dl class="session__facts">
${row(t('page.session_last_active'), when(s.lastSeenAt))}
${row(t('page.session_signed_in_at'), when(s.createdAt))}
${row(t('page.session_ip'), s.ip ?? t('page.session_ip_unknown'))}
${row(t('page.session_expires'), when(s.expiresAt))}
</dl>
<form class="session__end" method="post" action="${s.revokeAction}">
${csrf(m.csrfToken)}
<button class="button button--secondary button--small" type="submit" aria-describedby="${headingId}">${t('page.session_end')}</button>
</form>
</li>`;
}

export function accountPage(m: AccountPageModel): Html {
  const { t, locale } = m.chrome;
  const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const when = (d: Date) => html`<time datetime="${d.toISOString()}">${format.format(d)}</time>`;
  const u = m.user;
  const who = u.login ?? u.email ?? u.phone ?? '—';
  const facts: [string, string | null][] = [
    [t('page.user_login'), u.login],
    [t('page.user_email'), u.email],
    [t('page.user_phone'), u.phone],
  ];
  const heading = t('page.account_title');
  // The current device first: it is the one the reader is holding.
  const sessions = [...m.sessions].sort((a, b) => Number(b.current) - Number(a.current));

  const body = html`${m.notice ? noticeBox(m.notice) : null}
<div class="account__head">
<div>
<h1 class="card__title">${heading}</h1>
<p class="account__who">${t('page.signed_in_as')} <strong class="account__name">${who}</strong></p>
</div>
<form class="account__signout" method="post" action="${m.logoutAction}">
${csrf(m.csrfToken)}
<button class="button button--secondary" type="submit">${t('page.signout_button')}</button>
</form>
</div>
<section class="section" aria-labelledby="profile-title">
<h2 class="section__title" id="profile-title">${t('page.profile_title')}</h2>
<dl class="facts">
${facts
  .filter((f): f is [string, string] => f[1] !== null && f[1] !== '')
  .map(([label, value]) => html`<div class="facts__row"><dt>${label}</dt><dd>${value}</dd></div>`)}
${
  u.rights.length > 0
    ? html`<div class="facts__row"><dt>${t('page.user_rights')}</dt><dd><ul class="tags">${u.rights.map(
        (r) => html`<li class="tag">${r}</li>`,
      )}</ul></dd></div>`
    : null
}
</dl>
</section>
<section class="section" aria-labelledby="sessions-title">
<h2 class="section__title" id="sessions-title">${t('page.sessions_title')}</h2>
${
  sessions.length > 0
    ? html`<p class="section__hint">${t('page.sessions_count', { count: sessions.length })} ${t('page.sessions_advice')}</p>
<ul class="sessions">${sessions.map((s, i) => sessionItem(m, s, i, when))}</ul>`
    : html`<p class="section__hint">${t('page.sessions_empty')}</p>`
}
</section>`;

  return layout({ ...m.chrome, title: heading }, body, { wide: true });
}
