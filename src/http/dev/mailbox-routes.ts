// The development mailbox pages: read the mail Dostup "sent" while no SMTP server is configured.
//
// SECURITY: these routes show every mail — reset links and one-time codes included — to anyone who
// can reach the server, without signing in. They must NEVER be registered when SMTP_URL is set (real
// mail goes out and the dev mailbox stays empty anyway), and never on a server reachable by users.
// The composition root registers them only without SMTP_URL.
//
//   GET /dev/mailbox                     newest first: to, subject, time
//   GET /dev/mailbox/:id                 one mail: the HTML part in a sandboxed iframe, the text part
//   GET /dev/mailbox/:id.json            one mail as JSON (with the links found in its text)
//   GET /dev/mailbox/latest.json?to=…    the newest mail to an address (e2e tests, the benchmark)
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DevMail } from '../../core/ports.ts';
import type { DevMailboxReader, DevMailHeader } from '../../delivery/dev-mailbox.ts';
import { type Html, html } from '../web/html.ts';

export interface DevMailboxRouteDeps {
  mailbox: DevMailboxReader;
}

const LIST_LIMIT = 100;
const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/g;

const linksIn = (text: string): string[] => text.match(URL_IN_TEXT) ?? [];

const toJson = (m: DevMail) => ({
  id: m.id,
  outboxId: m.outboxId,
  realm: m.realm,
  to: m.recipient,
  subject: m.subject,
  text: m.textBody,
  html: m.htmlBody,
  links: linksIn(m.textBody),
  createdAt: m.createdAt.toISOString(),
});

/** The text part with its http(s) links made clickable; everything else escaped as text. */
function linkify(text: string): Html[] {
  const out: Html[] = [];
  let at = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    out.push(html`${text.slice(at, match.index)}`);
    out.push(html`<a class="link" href="${match[0]}" rel="noreferrer" target="_blank">${match[0]}</a>`);
    at = match.index + match[0].length;
  }
  out.push(html`${text.slice(at)}`);
  return out;
}

/**
 * The mail's own HTML for the preview iframe. Links open in a new tab: inside the sandbox they would
 * try to load our pages in the frame, which the site's frame-ancestors 'none' refuses.
 */
function previewDoc(mailHtml: string): string {
  const base = '<base target="_blank">';
  return /<head[^>]*>/i.test(mailHtml) ? mailHtml.replace(/<head[^>]*>/i, (h) => `${h}${base}`) : `${base}${mailHtml}`;
}

const time = (d: Date): Html =>
  html`<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;

function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} — Dostup dev mailbox</title>
<link rel="stylesheet" href="/assets/dostup.css">
</head>
<body>
<div class="shell shell--wide">
<header class="masthead"><div class="brand"><a class="brand__name link" href="/dev/mailbox">Dostup · dev mailbox</a></div></header>
<main class="main"><div class="card">
<div class="notice notice--info" role="status"><p class="notice__text">Development only: no SMTP_URL is configured, so mail is kept here instead of being sent.</p></div>
${body}
</div></main>
</div>
</body>
</html>
`.value;
}

function listPage(mails: DevMailHeader[]): string {
  const items = mails.map(
    (m) => html`<li class="session">
<div class="session__head"><h2 class="session__device"><a class="link" href="/dev/mailbox/${m.id}">${m.subject}</a></h2></div>
<dl class="session__facts">
<div class="session__fact"><dt>To</dt><dd>${m.recipient}</dd></div>
<div class="session__fact"><dt>Time</dt><dd>${time(m.createdAt)}</dd></div>
</dl>
</li>`,
  );
  return page(
    'Mailbox',
    html`<h1 class="card__title">Mailbox</h1>
${mails.length === 0 ? html`<p class="section__hint">No mail yet.</p>` : html`<ul class="sessions">${items}</ul>`}`,
  );
}

function mailPage(m: DevMail): string {
  return page(
    m.subject,
    html`<h1 class="card__title">${m.subject}</h1>
<dl class="facts">
<div class="facts__row"><dt>To</dt><dd>${m.recipient}</dd></div>
<div class="facts__row"><dt>Realm</dt><dd>${m.realm ?? '—'}</dd></div>
<div class="facts__row"><dt>Time</dt><dd>${time(m.createdAt)}</dd></div>
<div class="facts__row"><dt>Outbox id</dt><dd>${m.outboxId ?? '—'}</dd></div>
</dl>
<section class="section"><h2 class="section__title">HTML part</h2>
<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${previewDoc(m.htmlBody)}" title="The HTML part of the mail" width="100%" height="720"></iframe>
</section>
<section class="section"><h2 class="section__title">Text part</h2>
<pre>${linkify(m.textBody)}</pre>
</section>
<p><a class="link" href="/dev/mailbox/${m.id}.json">JSON</a> · <a class="link" href="/dev/mailbox">All mail</a></p>`,
  );
}

const sendHtml = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

/** Registered only when no SMTP_URL is configured — see the note at the top of this file. */
export function registerDevMailboxRoutes(app: FastifyInstance, deps: DevMailboxRouteDeps): void {
  const { mailbox } = deps;

  app.get('/dev/mailbox', async (_req, reply) => sendHtml(reply, 200, listPage(await mailbox.headers(LIST_LIMIT))));

  app.get('/dev/mailbox/latest.json', async (req, reply) => {
    const to = (req.query as { to?: unknown }).to;
    if (typeof to !== 'string' || to.length === 0 || to.length > 320) {
      return reply.code(400).send({ error: 'give the address as ?to=' });
    }
    const m = await mailbox.latestFor(to);
    return m
      ? reply.header('cache-control', 'no-store').send(toJson(m))
      : reply.code(404).send({ error: 'no mail to this address' });
  });

  app.get('/dev/mailbox/:id', async (req, reply) => {
    const raw = (req.params as { id: string }).id;
    const json = raw.endsWith('.json');
    const m = await mailbox.get(json ? raw.slice(0, -'.json'.length) : raw);
    if (json)
      return m
        ? reply.header('cache-control', 'no-store').send(toJson(m))
        : reply.code(404).send({ error: 'no such mail' });
    if (!m) return sendHtml(reply, 404, page('Not found', html`<h1 class="card__title">No such mail</h1>`));
    // The preview iframe's srcdoc document inherits this page's CSP, and mail HTML is styled inline
    // (mail clients need that). So this page alone allows inline STYLES; scripts stay ours only, and
    // the sandbox (no allow-scripts) keeps any script in a mail from running at all.
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'",
    );
    return sendHtml(reply, 200, mailPage(m));
  });
}
