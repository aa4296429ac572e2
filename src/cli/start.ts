// `dostup start`: open storage, make the default realm on first start, listen, and shut down
// gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database).
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, publicUrl } from '../config.ts';
import { deprioritizeHelperThreads } from '../infra/thread-priority.ts';
import { capYoungGeneration } from '../infra/young-gen.ts';
import { createDostup, prepareForServing } from '../server.ts';
import { LOCK_FILE } from './admin-client.ts';

export async function startServer(config: Config) {
  capYoungGeneration(config.YOUNG_GENERATION_MB);
  const d = await createDostup(config);
  const app = await d.http();
  await app.listen({ port: config.PORT, host: config.HOST });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  // Only now is the port known (PORT=0 picks a free one): the first realm's base URL must carry it,
  // or every link in mail would point nowhere.
  const url = publicUrl({ ...config, PORT: port });
  const { warnings, createdRealm } = await prepareForServing(d, url);
  for (const w of warnings) d.log.warn(`insecure: ${w}`);
  // Password hashing must not starve the event loop (see thread-priority.ts).
  if (config.HELPER_THREAD_NICE > 0) {
    const lowered = await deprioritizeHelperThreads(config.HELPER_THREAD_NICE);
    d.log.info(`${lowered} helper threads run ${config.HELPER_THREAD_NICE} nice steps below the event loop`);
  }
  d.startBackground();
  const lock = path.join(config.DOSTUP_DATA_DIR, LOCK_FILE);
  if (!config.DATABASE_URL)
    writeFileSync(
      lock,
      JSON.stringify({
        pid: process.pid,
        url: `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`,
      }),
    );

  const lines = [
    '',
    `Dostup is listening on ${url}  (storage: ${d.store.driver === 'pg' ? 'PostgreSQL' : `PGlite in ${config.DOSTUP_DATA_DIR}`})`,
    `  Sign-in page:   ${url}/r/${config.DOSTUP_DEFAULT_REALM}/login`,
    `  API docs:       ${url}/api/docs`,
    `  Add a user:     echo 'a-long-passphrase' | npm run dostup -- user add --realm ${config.DOSTUP_DEFAULT_REALM} --login alice --email alice@example.com --password-stdin`,
  ];
  if (createdRealm)
    lines.push(`  Created realm "${createdRealm}" with default policy (edit with: dostup realm apply FILE)`);
  if (d.generatedAdminToken) {
    lines.push(`  Admin API token (shown once; also in ${d.adminTokenFile}):`, `    ${d.generatedAdminToken}`);
  }
  console.log(`${lines.join('\n')}\n`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    d.log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await d.close();
      if (!config.DATABASE_URL) rmSync(lock, { force: true });
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
