// The document around every hosted page. The CSP forbids inline styles and scripts, so the markup
// carries classes only; realm branding arrives as CSS custom properties (--brand, --bg) in the realm's
// own theme.css, linked after ours so it wins without `!important`.
import { type Html, html } from '../html.ts';

export type PageLocale = 'ru' | 'en';

export interface LangLink {
  locale: PageLocale;
  /** The language's own name ("Русский", "English"): a reader of that language must find it. */
  label: string;
  href: string;
  current: boolean;
}

export interface PageChrome {
  locale: PageLocale;
  t: (id: string, params?: Record<string, string | number>) => string;
  realm: { name: string; title: string; logoUrl?: string; supportText?: string };
  themeCssUrl: string;
  langLinks: LangLink[];
  /** This page's own title; the realm's title is appended for the browser tab. */
  title: string;
}

export interface LayoutOptions {
  /** A wider card for pages with tables of data (the account page); forms stay narrow to read well. */
  wide?: boolean;
  /**
   * Scripts for this page only (`defer`, from our own origin: the CSP allows nothing else). Pages add
   * them for optional enhancements; every page must work without them.
   */
  scripts?: string[];
}

/**
 * A confirmation or a piece of news (S4.2's green "mail sent"): role="status" is announced politely,
 * after what the reader is saying, unlike an error's role="alert".
 */
export function noticeBox(notice: { kind: 'success' | 'info'; message: string }): Html {
  return html`<div class="notice notice--${notice.kind}" role="status"><p class="notice__text">${notice.message}</p></div>`;
}

function brand(chrome: PageChrome): Html {
  // `title` is the human name; `name` is the realm id, the last resort for a realm with no title.
  const title = chrome.realm.title || chrome.realm.name;
  if (chrome.realm.logoUrl) {
    return html`<div class="brand"><img class="brand__logo" src="${chrome.realm.logoUrl}" alt="${title}"></div>`;
  }
  return html`<div class="brand"><span class="brand__name">${title}</span></div>`;
}

function langSwitch(chrome: PageChrome): Html | null {
  // One language is no choice; the switch would be noise.
  if (chrome.langLinks.length < 2) return null;
  const items = chrome.langLinks.map(
    (l) =>
      html`<li><a class="lang__link" href="${l.href}" lang="${l.locale}" hreflang="${l.locale}"${
        l.current ? html` aria-current="true"` : null
      }>${l.label}</a></li>`,
  );
  return html`<nav class="lang" aria-label="${chrome.t('page.language')}"><ul class="lang__list">${items}</ul></nav>`;
}

export function layout(chrome: PageChrome, body: Html, options: LayoutOptions = {}): Html {
  const realmTitle = chrome.realm.title || chrome.realm.name;
  const docTitle = chrome.title && chrome.title !== realmTitle ? `${chrome.title} — ${realmTitle}` : realmTitle;
  const support = chrome.realm.supportText;
  return html`<!doctype html>
<html lang="${chrome.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="same-origin">
<title>${docTitle}</title>
<link rel="stylesheet" href="/assets/dostup.css">
<link rel="stylesheet" href="${chrome.themeCssUrl}">
${(options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>\n`)}</head>
<body>
<div class="shell${options.wide ? ' shell--wide' : ''}">
<header class="masthead">
${brand(chrome)}
${langSwitch(chrome)}
</header>
<main class="main">
<div class="card">
${body}
</div>
</main>
${support ? html`<footer class="footer"><p class="footer__text">${support}</p></footer>` : null}
</div>
</body>
</html>
`;
}
