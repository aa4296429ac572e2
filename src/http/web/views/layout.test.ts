import { describe, expect, it } from 'vitest';
import { html } from '../html.ts';
import { layout, noticeBox, type PageChrome } from './layout.ts';

function chrome(over: Partial<PageChrome> = {}): PageChrome {
  return {
    locale: 'ru',
    t: (id) => id,
    realm: { name: 'shop', title: 'Магазин <b>' },
    themeCssUrl: '/r/shop/theme.css',
    langLinks: [
      { locale: 'ru', label: 'Русский', href: '/r/shop/signin?lang=ru', current: true },
      { locale: 'en', label: 'English', href: '/r/shop/signin?lang=en', current: false },
    ],
    title: 'page.signin_title',
    ...over,
  };
}

describe('layout', () => {
  const doc = layout(chrome(), html`<p>body</p>`).value;

  it('is a whole document in the page language', () => {
    expect(doc.startsWith('<!doctype html>')).toBe(true);
    expect(doc).toContain('<html lang="ru">');
    expect(doc).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(layout(chrome({ locale: 'en' }), html``).value).toContain('<html lang="en">');
  });

  it('links our stylesheet first and the realm theme after it, so the theme wins', () => {
    const ours = doc.indexOf('href="/assets/dostup.css"');
    const theme = doc.indexOf('href="/r/shop/theme.css"');
    expect(ours).toBeGreaterThan(0);
    expect(theme).toBeGreaterThan(ours);
  });

  it('titles the tab with the page and the realm, escaped', () => {
    expect(doc).toContain('<title>page.signin_title — Магазин &lt;b&gt;</title>');
  });

  it('puts the body in the card inside main', () => {
    expect(doc).toMatch(/<main class="main">\s*<div class="card">\s*<p>body<\/p>\s*<\/div>\s*<\/main>/);
  });

  it('shows the realm name, or its logo with the name as alt text', () => {
    expect(doc).toContain('<span class="brand__name">Магазин &lt;b&gt;</span>');
    const withLogo = layout(chrome({ realm: { name: 'shop', title: 'Shop', logoUrl: '/logo.svg' } }), html``).value;
    expect(withLogo).toContain('<img class="brand__logo" src="/logo.svg" alt="Shop">');
    expect(withLogo).not.toContain('brand__name');
  });

  it('marks the current language and names each in its own language', () => {
    expect(doc).toContain('<nav class="lang" aria-label="page.language">');
    expect(doc).toContain('href="/r/shop/signin?lang=ru" lang="ru" hreflang="ru" aria-current="true">Русский</a>');
    expect(doc).toContain('href="/r/shop/signin?lang=en" lang="en" hreflang="en">English</a>');
    expect(doc.match(/aria-current/g)).toHaveLength(1);
  });

  it('drops the language switch when there is nothing to switch to', () => {
    const one = layout(chrome({ langLinks: [chrome().langLinks[0]!] }), html``).value;
    expect(one).not.toContain('<nav');
  });

  it('shows the support text in the footer only when the realm has one', () => {
    expect(doc).not.toContain('<footer');
    const withSupport = layout(chrome({ realm: { name: 's', title: 'S', supportText: 'Звоните <8 800>' } }), html``);
    expect(withSupport.value).toContain(
      '<footer class="footer"><p class="footer__text">Звоните &lt;8 800&gt;</p></footer>',
    );
  });

  it('widens the card on request', () => {
    expect(doc).toContain('<div class="shell">');
    expect(layout(chrome(), html``, { wide: true }).value).toContain('<div class="shell shell--wide">');
  });

  it('has no inline style or script (the CSP forbids both)', () => {
    expect(doc).not.toMatch(/\sstyle=/i);
    expect(doc).not.toMatch(/<script/i);
  });
});

describe('noticeBox', () => {
  it('is a polite status message of its kind', () => {
    expect(noticeBox({ kind: 'success', message: 'Готово <ok>' }).value).toBe(
      '<div class="notice notice--success" role="status"><p class="notice__text">Готово &lt;ok&gt;</p></div>',
    );
  });
});
