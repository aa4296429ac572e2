// A page that only says something: an error (unknown realm, stale form, too many attempts) or a
// placeholder. It always offers a way on when the caller gives one, so nobody is left at a dead end.
import { type Html, html } from '../html.ts';
import { layout, type PageChrome } from './layout.ts';

export interface MessagePageModel {
  chrome: PageChrome;
  heading: string;
  message: string;
  kind: 'info' | 'error';
  links?: { href: string; label: string }[];
}

export function messagePage(m: MessagePageModel): Html {
  const links = m.links ?? [];
  const body = html`<div class="message message--${m.kind}">
<span class="message__icon" aria-hidden="true"></span>
<h1 class="card__title">${m.heading}</h1>
<p class="message__text">${m.message}</p>
</div>
${
  links.length > 0
    ? html`<ul class="actions">${links.map(
        // The first link is the way forward; any others are alternatives.
        (l, i) =>
          html`<li><a class="button ${i === 0 ? 'button--primary' : 'button--secondary'} button--block" href="${l.href}">${l.label}</a></li>`,
      )}</ul>`
    : null
}`;
  return layout({ ...m.chrome, title: m.heading }, body);
}
