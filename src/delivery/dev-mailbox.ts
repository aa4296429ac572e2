// The development mailbox: where mail goes when no SMTP_URL is configured, so a developer (and the
// e2e tests and the benchmark) can read the links and codes a real user would get by mail. It holds
// them in clear text — the reason it is only used without real SMTP.
//
// What it stores is the mail's source (template, locale, parameters, the realm's branding at the
// time), not the rendered bodies: every mail of the embedded default lands here, and a ~4 KB row of
// HTML and text was the largest write of a "forgot password" request. A mail is rendered again when
// someone looks at it. Whoever stores it has rendered it once already (the server's queue,
// dev-mailbox-queue.ts, in the transaction that queues it; the worker, through the transport below,
// for rows queued otherwise), so a mail that cannot be rendered is abandoned, as with SMTP; the view
// renders the same source with the same code and so shows the same mail (unless the templates
// changed in between, which the view says).
import { createBatcher } from '../core/batching.ts';
import type { Catalog } from '../core/i18n/catalog.ts';
import type { DevMail, DevMailboxRepo, NewDevMail, StoredDevMail } from '../core/ports.ts';
import { html } from '../http/web/html.ts';
import { renderSource } from './mail-templates.ts';
import type { DeliveryLog, MailTransport } from './transports.ts';

const LINK = /https?:\/\/[^\s<>"']+/g;

/**
 * "Deliver" into the dev_mailbox table (read at /dev/mailbox) and print a summary with the mail's
 * links, so a developer can follow a reset link from the console.
 */
export function devMailboxTransport(
  repo: DevMailboxRepo,
  log: DeliveryLog,
  opts: { baseUrl?: string } = {},
): MailTransport {
  // A worker's round sends its mails concurrently: they are stored with one INSERT.
  const add = createBatcher((mails: NewDevMail[]) => repo.addMany(mails));
  return {
    async send(msg) {
      const stored = await add({
        outboxId: msg.id,
        realm: msg.realm ?? null,
        recipient: msg.to,
        subject: msg.subject,
        // The source alone when there is one; the bodies only for mail handed over without it.
        textBody: msg.source ? null : msg.text,
        htmlBody: msg.source ? null : msg.html,
        source: msg.source ?? null,
      });
      logStoredMail(log, opts.baseUrl, { id: stored.id, to: msg.to, subject: msg.subject, text: msg.text });
    },
  };
}

/**
 * The console line for a mail stored in the dev mailbox (whoever stored it): its links, and the page
 * at /dev/mailbox/<id> (`id` is the dev mailbox row's) where it can be read.
 */
export function logStoredMail(
  log: DeliveryLog,
  baseUrl: string | undefined,
  m: { id: string; to: string; subject: string; text: string },
): void {
  const view = `${baseUrl?.replace(/\/$/, '') ?? ''}/dev/mailbox/${m.id}`;
  log.info({ to: m.to, subject: m.subject, links: m.text.match(LINK) ?? [], view }, 'dev mailbox: mail stored');
}

/** What the list page shows of a mail. */
export type DevMailHeader = Pick<StoredDevMail, 'id' | 'realm' | 'recipient' | 'subject' | 'createdAt'>;

/** The dev mailbox as the pages read it: each mail with its bodies. */
export interface DevMailboxReader {
  /** Newest first. */
  list(limit: number): Promise<DevMail[]>;
  /** list() without the bodies: nothing is rendered (the list page of up to 100 mails). */
  headers(limit: number): Promise<DevMailHeader[]>;
  get(id: string): Promise<DevMail | null>;
  /** The newest mail to the address (compared case-insensitively), or null. */
  latestFor(recipient: string): Promise<DevMail | null>;
}

/** A stored mail with its bodies: as stored, or rendered from its source. */
export function openDevMail(catalog: Catalog, m: StoredDevMail): DevMail {
  const { textBody, htmlBody, source, ...rest } = m;
  if (textBody !== null && htmlBody !== null) return { ...rest, textBody, htmlBody };
  try {
    if (!source) throw new Error('the mail has neither bodies nor a source');
    const r = renderSource(catalog, source);
    return { ...rest, textBody: r.text, htmlBody: r.html };
  } catch (e) {
    // A developer tool must not answer 500 for one odd row (a template renamed since): say so instead.
    const note = `This mail can no longer be shown: ${e instanceof Error ? e.message : String(e)}`;
    return { ...rest, textBody: note, htmlBody: html`<p>${note}</p>`.value };
  }
}

export function devMailboxReader(repo: DevMailboxRepo, catalog: Catalog): DevMailboxReader {
  const open = (m: StoredDevMail | null) => (m ? openDevMail(catalog, m) : null);
  return {
    list: async (limit) => (await repo.list(limit)).map((m) => openDevMail(catalog, m)),
    headers: async (limit) =>
      (await repo.list(limit)).map(({ id, realm, recipient, subject, createdAt }) => ({
        id,
        realm,
        recipient,
        subject,
        createdAt,
      })),
    get: async (id) => open(await repo.get(id)),
    latestFor: async (recipient) => open(await repo.latestFor(recipient)),
  };
}
