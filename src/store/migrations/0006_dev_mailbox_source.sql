-- The dev mailbox keeps what a mail is rendered from (template, locale, parameters and the realm's
-- branding at the time, as JSON: ~0.5 KB) instead of its rendered bodies (~4 KB of HTML and text,
-- over the size at which the row is compressed and moved to the TOAST table), and renders it again
-- when someone views it. Its INSERT was the largest statement of a recovery request on the embedded
-- default (8.6 ms a batch of ~49 mails, ~27 % of the database's time). Mail stored before keeps its
-- bodies; every row has one or the other.
alter table dev_mailbox
  add column source text,
  alter column text_body drop not null,
  alter column html_body drop not null,
  add constraint dev_mailbox_has_body
    check (source is not null or (text_body is not null and html_body is not null));
