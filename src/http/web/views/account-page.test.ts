import { describe, expect, it } from 'vitest';
import { type AccountPageModel, type AccountSession, accountPage } from './account-page.ts';
import type { PageChrome } from './layout.ts';

const chrome: PageChrome = {
  locale: 'en',
  t: (id, params) => (params ? `${id}(${Object.values(params).join(',')})` : id),
  realm: { name: 'shop', title: 'Shop' },
  themeCssUrl: '/r/shop/theme.css',
  langLinks: [],
  title: '',
};

const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function session(over: Partial<AccountSession> = {}): AccountSession {
  return {
    id: 's1',
    current: false,
    createdAt: new Date('2025-05-15T09:30:00Z'),
    lastSeenAt: new Date('2025-05-15T10:45:00Z'),
    expiresAt: new Date('2025-05-16T09:30:00Z'),
    remember: false,
    ip: '203.0.113.7',
    userAgent: CHROME_LINUX,
    revokeAction: '/r/shop/sessions/s1/revoke',
    ...over,
  };
}

function model(over: Partial<AccountPageModel> = {}): AccountPageModel {
  return {
    chrome,
    csrfToken: 'tok',
    user: { login: 'ivanov', email: 'ivanov@example.ru', phone: null, rights: ['orders:read'] },
    sessions: [
      session({ id: 'old', revokeAction: '/r/shop/sessions/old/revoke', userAgent: null, ip: null }),
      session({ id: 'cur', current: true, remember: true, revokeAction: '/r/shop/sessions/cur/revoke' }),
    ],
    logoutAction: '/r/shop/signout',
    ...over,
  };
}

describe('accountPage', () => {
  const doc = accountPage(model()).value;

  it('says who is signed in', () => {
    expect(doc).toContain('<h1 class="card__title">page.account_title</h1>');
    expect(doc).toContain('page.signed_in_as <strong class="account__name">ivanov</strong>');
    expect(doc).toContain('<dt>page.user_email</dt><dd>ivanov@example.ru</dd>');
    expect(doc).not.toContain('page.user_phone');
    expect(doc).toContain('<li class="tag">orders:read</li>');
  });

  it('falls back to the e-mail, then the phone, when there is no login', () => {
    const byEmail = accountPage(model({ user: { login: null, email: 'a@b.ru', phone: '+7916', rights: [] } })).value;
    expect(byEmail).toContain('<strong class="account__name">a@b.ru</strong>');
    expect(byEmail).not.toContain('page.user_rights');
    const byPhone = accountPage(model({ user: { login: null, email: null, phone: '+7916', rights: [] } })).value;
    expect(byPhone).toContain('<strong class="account__name">+7916</strong>');
  });

  it('signs out with a POST carrying the CSRF token', () => {
    expect(doc).toMatch(
      /<form class="account__signout" method="post" action="\/r\/shop\/signout">\s*<input type="hidden" name="_csrf" value="tok">\s*<button class="button button--secondary" type="submit">page.signout_button<\/button>/,
    );
  });

  it('lists the sessions, the current device first and marked', () => {
    expect(doc).toContain('<h2 class="section__title" id="sessions-title">page.sessions_title</h2>');
    expect(doc).toContain('page.sessions_count(2)');
    const items = [...doc.matchAll(/<li class="session[^"]*">[\s\S]*?<\/li>/g)].map((m) => m[0]);
    expect(items).toHaveLength(2);
    expect(items[0]).toContain('session--current');
    expect(items[0]).toContain('page.session_current');
    expect(items[0]).toContain('page.session_device(Chrome,Linux)');
    expect(items[0]).toContain('page.session_remembered');
    expect(items[1]).not.toContain('page.session_current');
    expect(items[1]).toContain('page.session_device_unknown');
    expect(items[1]).toContain('<dd>page.session_ip_unknown</dd>');
  });

  it('ends each session with its own small POST form, the button described by the device name', () => {
    for (const id of ['cur', 'old']) {
      expect(doc).toMatch(
        new RegExp(
          `<form class="session__end" method="post" action="/r/shop/sessions/${id}/revoke">\\s*<input type="hidden" name="_csrf" value="tok">\\s*<button [^>]*aria-describedby="(session-\\d)"[^>]*>page.session_end</button>`,
        ),
      );
    }
    for (const m of doc.matchAll(/aria-describedby="([^"]+)"/g)) expect(doc).toContain(`id="${m[1]}"`);
  });

  it('formats dates for the locale, with a machine-readable datetime', () => {
    const expected = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(
      new Date('2025-05-15T10:45:00Z'),
    );
    expect(doc).toContain(`<time datetime="2025-05-15T10:45:00.000Z">${expected}</time>`);
    const ru = accountPage(model({ chrome: { ...chrome, locale: 'ru' } })).value;
    const expectedRu = new Intl.DateTimeFormat('ru', { dateStyle: 'medium', timeStyle: 'short' }).format(
      new Date('2025-05-15T10:45:00Z'),
    );
    expect(ru).toContain(expectedRu);
  });

  it('says so when there are no sessions', () => {
    const empty = accountPage(model({ sessions: [] })).value;
    expect(empty).toContain('page.sessions_empty');
    expect(empty).not.toContain('<ul class="sessions">');
  });

  it('escapes the login, the user agent and the IP', () => {
    const page = accountPage(
      model({
        user: { login: '<img src=x onerror=alert(1)>', email: null, phone: null, rights: ['<b>'] },
        sessions: [session({ userAgent: '<script>alert(1)</script> Firefox/1', ip: '"><script>' })],
      }),
    ).value;
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('&lt;b&gt;');
    expect(page).toContain('&quot;&gt;&lt;script&gt;');
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>');
  });

  it('shows a notice as a status message first in the card', () => {
    const page = accountPage(model({ notice: { kind: 'success', message: 'page.session_ended' } })).value;
    expect(page).toMatch(/<div class="card">\s*<div class="notice notice--success" role="status">/);
  });

  it('uses the wide card and has no inline style or script', () => {
    expect(doc).toContain('shell--wide');
    expect(doc).not.toMatch(/\sstyle=/i);
    expect(doc).not.toMatch(/<script/i);
  });
});
