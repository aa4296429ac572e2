-- Dev mailbox bodies compressed with lz4 instead of pglz, where the database has it (PostgreSQL 14+
-- built with lz4, as Debian's and the official images are; PGlite is not, and keeps pglz). A stored
-- mail is ~4 KB of HTML and text, over the 2 KB at which PostgreSQL compresses a row: pglz cost
-- ~80 µs of database CPU a mail, lz4 ~45 µs (10 000 real mails inserted on this box: 0.76-0.92 s
-- vs 0.45-0.48 s), at ~15 % more space. Only new rows change; existing ones stay readable as they are.
do $$
begin
  if exists (
    select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)
  ) then
    alter table dev_mailbox
      alter column html_body set compression lz4,
      alter column text_body set compression lz4;
  end if;
end
$$;
