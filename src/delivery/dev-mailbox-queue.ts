// The mail queue of the embedded default (no SMTP_URL). The dev mailbox is a table in the same
// database, so "sending" a mail there is one more INSERT — and it is done in the transaction that
// queues the mail. Beside it the outbox row is written already finished (sent at attempt 1, no
// payload): every mail still has its outbox row, as with SMTP, but there is no lease, no worker
// round, no "mark sent" write and no sealed payload to encrypt now and open again a moment later.
// It is also exactly once: the mail is in the mailbox if and only if the change it is about
// committed. (Measured on PGlite, "forgot password" for existing accounts, alternated pairs: server
// CPU 1.08 → 0.76 ms a request, median of four each.)
//
// A mail that cannot be rendered is written `abandoned` with the reason and not stored — what the
// worker does with it over SMTP — and the change it is about still commits. After the commit,
// `deliver` prints each stored mail's links (info level), so a developer can follow them from the
// console.
import type { Catalog } from '../core/i18n/catalog.ts';
import type { FinishedOutboxMessage, MailQueue, MailSource, MailToQueue, QueuedMail, Repos } from '../core/ports.ts';
import { logStoredMail } from './dev-mailbox.ts';
import { assertKnownTemplate } from './enqueue.ts';
import { type MailBranding, renderSourceText, TemplateError } from './mail-templates.ts';
import type { DeliveryLog } from './transports.ts';

export interface DevMailboxQueueDeps {
  catalog: Catalog;
  log: DeliveryLog;
  /** The server's public URL: the console line links to the mail's page at /dev/mailbox/<id>. */
  baseUrl?: string;
  /** A fresh UUID (the outbox row's id, which is also the mail's Message-ID). */
  uuid: () => string;
}

/** What `deliver` prints for a queued mail: a stored one's links (`id`: its dev mailbox row), or why it was abandoned. */
type Note = { stored: true; id: string; to: string; subject: string; text: string } | { stored: false; error: string };

export function devMailboxQueue(deps: DevMailboxQueueDeps): MailQueue {
  // The core hands back what enqueueMany returned, untouched: the notes ride along by identity.
  const notes = new WeakMap<QueuedMail, Note>();

  async function enqueueMany(tx: Repos, ms: MailToQueue[]): Promise<QueuedMail[]> {
    if (ms.length === 0) return [];
    for (const m of ms) assertKnownTemplate(m.template);
    // The realm's branding as of this transaction: the stored source renders later the way it was sent.
    // (Read through `tx`: on PGlite a read outside the open transaction would wait for it forever.)
    const brandings = new Map<string, MailBranding | null>();
    for (const realm of new Set(ms.map((m) => m.realm))) {
      if (realm) brandings.set(realm, (await tx.realms.get(realm))?.policy.branding ?? null);
    }
    const drafts = ms.map((m) => {
      const source: MailSource = {
        template: m.template,
        locale: m.locale,
        params: m.params,
        branding: (m.realm && brandings.get(m.realm)) || null,
      };
      try {
        return { m, id: deps.uuid(), source, mail: renderSourceText(deps.catalog, source), error: null };
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        return { m, id: deps.uuid(), source, mail: null, error: `${e.name}: ${e.message}` };
      }
    });
    const finished = drafts.map(
      (d): FinishedOutboxMessage => ({
        id: d.id,
        realm: d.m.realm,
        channel: 'email',
        recipient: d.m.recipient,
        template: d.m.template,
        locale: d.m.locale,
        ...(d.error === null ? { status: 'sent', lastError: null } : { status: 'abandoned', lastError: d.error }),
      }),
    );
    await tx.outbox.recordFinished(finished);
    const toStore = drafts.filter((d) => d.mail);
    const stored = await tx.devMailbox.addMany(
      toStore.map((d) => ({
        outboxId: d.id,
        realm: d.m.realm,
        recipient: d.m.recipient,
        subject: d.mail!.subject,
        textBody: null,
        htmlBody: null,
        source: d.source,
      })),
    );
    const mailIds = new Map(toStore.map((d, i) => [d.id, stored[i]!.id]));
    const now = new Date();
    return drafts.map((d, i) => {
      const f = finished[i]!;
      const queued: QueuedMail = {
        message: {
          ...f,
          payload: null,
          attempts: 1,
          nextAttemptAt: now,
          lockedUntil: null,
          createdAt: now,
          sentAt: f.status === 'sent' ? now : null,
        },
        leasedAt: now.getTime(),
      };
      notes.set(
        queued,
        d.mail
          ? { stored: true, id: mailIds.get(d.id)!, to: d.m.recipient, subject: d.mail.subject, text: d.mail.text }
          : { stored: false, error: d.error! },
      );
      return queued;
    });
  }

  return {
    enqueue: (tx, m) => enqueueMany(tx, [m]),
    enqueueMany,
    deliver(queued) {
      for (const q of queued) {
        const note = notes.get(q);
        if (!note) continue;
        const m = q.message;
        if (note.stored) {
          logStoredMail(deps.log, deps.baseUrl, note);
          continue;
        }
        // The recipient is personal data: the id is enough to find the row.
        deps.log.error(
          { id: m.id, realm: m.realm, template: m.template, attempts: 1, error: note.error, permanent: true },
          'outbox: message abandoned',
        );
      }
    },
  };
}
