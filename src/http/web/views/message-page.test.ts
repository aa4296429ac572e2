import { describe, expect, it } from 'vitest';
import type { PageChrome } from './layout.ts';
import { messagePage } from './message-page.ts';

const chrome: PageChrome = {
  locale: 'ru',
  t: (id) => id,
  realm: { name: 'shop', title: 'Shop' },
  themeCssUrl: '/r/shop/theme.css',
  langLinks: [],
  title: '',
};

describe('messagePage', () => {
  it('shows the heading as the page title and the message', () => {
    const doc = messagePage({ chrome, heading: 'Страница устарела', message: 'Обновите <её>', kind: 'error' }).value;
    expect(doc).toContain('<title>Страница устарела — Shop</title>');
    expect(doc).toContain('<div class="message message--error">');
    expect(doc).toContain('<h1 class="card__title">Страница устарела</h1>');
    expect(doc).toContain('<p class="message__text">Обновите &lt;её&gt;</p>');
    expect(doc).toContain('<span class="message__icon" aria-hidden="true"></span>');
    expect(doc).not.toContain('<ul class="actions">');
  });

  it('offers the links, the first as the main action', () => {
    const doc = messagePage({
      chrome,
      heading: 'page.recovery_unavailable_title',
      message: 'page.recovery_unavailable_text',
      kind: 'info',
      links: [
        { href: '/r/shop/signin', label: 'page.back_to_signin' },
        { href: '/help?a=1&b="2"', label: 'Help' },
      ],
    }).value;
    expect(doc).toContain('message--info');
    expect(doc).toContain(
      '<a class="button button--primary button--block" href="/r/shop/signin">page.back_to_signin</a>',
    );
    expect(doc).toContain(
      '<a class="button button--secondary button--block" href="/help?a=1&amp;b=&quot;2&quot;">Help</a>',
    );
  });

  it('has no inline style or script', () => {
    const doc = messagePage({ chrome, heading: '<script>', message: '<script>', kind: 'error' }).value;
    expect(doc).not.toMatch(/\sstyle=/i);
    expect(doc).not.toMatch(/<script/i);
  });
});
