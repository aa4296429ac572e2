-- Insertion order for the mail tables. Their created_at cannot order them: rows written in one
-- transaction share now(), and PGlite's clock only moves once a millisecond, so "the newest mail to
-- this address" was a coin toss between the ids of mails stored close together. An identity column
-- is handed out in insertion order on one database, whichever node inserts.
alter table outbox add column seq bigint generated always as identity;
alter table dev_mailbox add column seq bigint generated always as identity;

drop index outbox_recipient_idx;
create index outbox_recipient_idx on outbox (recipient, seq desc);
drop index dev_mailbox_recipient_idx;
create index dev_mailbox_recipient_idx on dev_mailbox (lower(recipient), seq desc);
drop index dev_mailbox_created_idx;
create index dev_mailbox_created_idx on dev_mailbox (created_at);
create index dev_mailbox_seq_idx on dev_mailbox (seq desc);
