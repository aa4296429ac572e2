-- The outbox: every e-mail and SMS is a row written in the same transaction as the state change that
-- causes it, and delivered later by a worker on any node (SKIP LOCKED). So no request waits on a mail
-- server, and a mail server being down loses nothing. PostgreSQL 15-compatible, like 0001.

create table outbox (
  id uuid primary key,
  -- No foreign key: a queued notice must not block removing a realm, nor vanish with it silently.
  realm text,
  channel text not null constraint outbox_channel_known check (channel in ('email', 'sms')),
  -- The address exactly as stored for the user; mail always goes there, never to a typed address.
  recipient text not null,
  template text not null,
  locale text not null,
  -- Template parameters, AES-256-GCM encrypted (they may carry a one-time code). NULL once the row
  -- is sent or abandoned: a delivered code must not stay recoverable from the table or its backups.
  payload bytea,
  status text not null default 'queued'
    constraint outbox_status_known check (status in ('queued', 'sending', 'sent', 'abandoned')),
  -- Raised by every claim; a late worker's markSent/markFailed must quote the value it claimed with.
  attempts integer not null default 0 constraint outbox_attempts_nonnegative check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  -- The lease of the worker sending it: past this, the row is due again (that worker is presumed dead).
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  -- A payload is only ever kept for work still to do.
  constraint outbox_payload_wiped check (status in ('queued', 'sending') or payload is null)
);
-- The claim query scans `status = 'queued' and next_attempt_at <= now()` and `status = 'sending'`.
create index outbox_due_idx on outbox (status, next_attempt_at);
-- "What did we send to this address?" (support, admin listing, tests).
create index outbox_recipient_idx on outbox (recipient, created_at desc);

-- Development only: when no SMTP server is configured, mail is "delivered" here and shown at
-- /dev/mailbox. Never written with real SMTP configured.
create table dev_mailbox (
  id uuid primary key default gen_random_uuid(),
  outbox_id uuid,
  realm text,
  recipient text not null,
  subject text not null,
  text_body text not null,
  html_body text not null,
  created_at timestamptz not null default now()
);
create index dev_mailbox_recipient_idx on dev_mailbox (lower(recipient), created_at desc);
create index dev_mailbox_created_idx on dev_mailbox (created_at desc);
