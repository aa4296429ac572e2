-- One-time secrets: recovery codes and links (later SMS codes). Runs on PostgreSQL 15 and PGlite.
-- The secret itself is never stored, only its HMAC-SHA256 under a server key (key_id says which, so
-- keys can rotate): a copy of this table cannot be replayed as codes, and a 6-digit code cannot be
-- brute-forced offline without the server key either.

create table one_time_secrets (
  id uuid primary key,
  realm text not null references realms (name),
  user_id uuid not null,
  -- What the secret may be used for (`recovery`, …); a secret of one purpose never passes for another.
  purpose text not null,
  -- The flow that issued it. No foreign key: flows are deleted when they expire, and the secret row
  -- has its own expiry and clean-up.
  flow_id uuid,
  hmac bytea not null constraint one_time_secrets_hmac_len check (octet_length(hmac) = 32),
  key_id text not null,
  -- Raised BEFORE every comparison, in the same statement that checks it against max_attempts, so
  -- parallel guesses each cost one attempt and can never overshoot the limit.
  attempts integer not null default 0 constraint one_time_secrets_attempts_nonneg check (attempts >= 0),
  max_attempts integer not null constraint one_time_secrets_max_attempts_pos check (max_attempts >= 1),
  created_at timestamptz not null default now(),
  -- Set from the DATABASE clock (now() + ttl) so every node agrees on when a code dies.
  expires_at timestamptz not null,
  used_at timestamptz,
  invalidated_at timestamptz,
  constraint one_time_secrets_attempts_max check (attempts <= max_attempts),
  -- Like sessions: the secret can never claim a realm its user is not in; deleting the user deletes it.
  constraint one_time_secrets_user_fk foreign key (user_id, realm) references users (id, realm) on delete cascade
);

-- At most ONE live (unused, not invalidated) secret per user and purpose: issuing a new code
-- invalidates the older ones, so a person who asked twice can only use the latest mail, and an
-- attacker never has several codes to guess at once. The repository serializes issuing per
-- user + purpose; this index is the database's own guarantee (and the lookup of "the user's code").
create unique index one_time_secrets_live_uq on one_time_secrets (user_id, purpose)
  where used_at is null and invalidated_at is null;
create index one_time_secrets_expires_idx on one_time_secrets (expires_at);
