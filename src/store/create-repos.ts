// The five repositories over one handle: the pool/PGlite at the root, or a transaction.
import type { Repos } from '../core/ports.ts';
import type { Db } from './db.ts';
import { createDevMailboxRepo } from './repos/dev-mailbox-repo.ts';
import { createEventsRepo } from './repos/events-repo.ts';
import { createFlowsRepo } from './repos/flows-repo.ts';
import { createOneTimeSecretsRepo } from './repos/one-time-secrets-repo.ts';
import { createOutboxRepo } from './repos/outbox-repo.ts';
import { createRealmsRepo } from './repos/realms-repo.ts';
import { createSessionsRepo } from './repos/sessions-repo.ts';
import { createUsersRepo } from './repos/users-repo.ts';

/** `inTransaction`: `db` is a transaction (see createOneTimeSecretsRepo). */
export function createRepos(db: Db, opts: { inTransaction?: boolean } = {}): Repos {
  return {
    realms: createRealmsRepo(db),
    users: createUsersRepo(db),
    sessions: createSessionsRepo(db),
    flows: createFlowsRepo(db),
    events: createEventsRepo(db),
    oneTimeSecrets: createOneTimeSecretsRepo(db, opts),
    outbox: createOutboxRepo(db),
    devMailbox: createDevMailboxRepo(db),
  };
}
