-- Dostup initial schema. Runs unchanged on PostgreSQL 15 (production) and PGlite (PostgreSQL 18),
-- so it uses nothing newer than 15. Every timestamp is timestamptz: sessions and flows expire by the
-- database clock, and a timestamp without a zone would silently depend on the server's TimeZone.
-- Index and constraint names are part of the contract: the users repository maps a unique violation
-- to the identifier it concerns by the index name.

create table realms (
  name text primary key constraint realms_name_format check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  policy jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table users (
  id uuid primary key default gen_random_uuid(),
  realm text not null references realms (name),
  login text,
  login_key text,
  email text,
  email_key text,
  email_verified boolean not null default false,
  phone text,
  phone_verified boolean not null default false,
  birth_date date,
  locale text constraint users_locale_known check (locale in ('ru', 'en')),
  status text not null default 'active' constraint users_status_known check (status in ('active', 'locked', 'disabled')),
  rights text[] not null default '{}',
  password_hash text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A display value without its lookup key (or the reverse) would make an account that can be shown
  -- but not found, or found under a name nobody sees.
  constraint users_login_pair check ((login is null) = (login_key is null)),
  constraint users_email_pair check ((email is null) = (email_key is null)),
  -- Lets sessions reference (user, realm) so a session can never claim a realm its user is not in.
  constraint users_id_realm_uq unique (id, realm)
);
-- Identifiers are unique per realm (the same login may exist in two portals). Lookups go through the
-- normalized keys, so "Ivan" and "ivan" collide here rather than becoming two accounts.
create unique index users_realm_login_key_uq on users (realm, login_key) where login_key is not null;
create unique index users_realm_email_key_uq on users (realm, email_key) where email_key is not null;
create unique index users_realm_phone_uq on users (realm, phone) where phone is not null;
create index users_realm_created_idx on users (realm, created_at, id);

create table password_history (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  hash text not null,
  created_at timestamptz not null default now()
);
-- id breaks ties: several changes inside one transaction share now().
create index password_history_user_idx on password_history (user_id, created_at desc, id desc);

create table sessions (
  id uuid primary key default gen_random_uuid(),
  realm text not null,
  user_id uuid not null,
  -- SHA-256 of the token, never the token: a leaked table cannot be replayed as cookies.
  token_hash bytea not null constraint sessions_token_hash_uq unique
    constraint sessions_token_hash_len check (octet_length(token_hash) = 32),
  remember boolean not null default false,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  idle_expires_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  ip text,
  user_agent text,
  constraint sessions_user_fk foreign key (user_id, realm) references users (id, realm) on delete cascade
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expires_idx on sessions (expires_at);
create index sessions_revoked_idx on sessions (revoked_at) where revoked_at is not null;

create table flows (
  id uuid primary key,
  realm text not null references realms (name),
  kind text not null,
  state text not null,
  data jsonb not null default '{}',
  csrf_binding bytea,
  version integer not null default 1,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index flows_expires_idx on flows (expires_at);

-- The audit log. No foreign keys: events must outlive the users and realms they mention.
create table events (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  realm text,
  kind text not null,
  user_id uuid,
  ip text,
  user_agent text,
  data jsonb not null default '{}'
);
create index events_realm_id_idx on events (realm, id desc);
create index events_user_id_idx on events (user_id, id desc) where user_id is not null;

-- Append-only: an attacker (or a bug) holding the application's connection must not be able to
-- rewrite or erase the trail of what happened. Retention jobs run by an operator have to disable
-- these triggers explicitly, which is itself visible in the server log.
create function events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'events is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege', hint = 'the audit log cannot be rewritten';
end
$$;
create trigger events_no_update_delete before update or delete on events
  for each row execute function events_append_only();
create trigger events_no_truncate before truncate on events
  for each statement execute function events_append_only();
