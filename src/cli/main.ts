// `dostup start | migrate | realm apply|check|list|show|schema | user add|list|show`
//
// The embedded database (PGlite) belongs to one process. When a server is running on the same data
// dir, the CLI talks to it through the admin API instead of opening the files a second time.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, publicUrl } from '../config.ts';
import { DostupError } from '../core/errors.ts';
import { parseRealmPolicyText, realmPolicyJsonSchema } from '../core/realm/policy.ts';
import { createDostup } from '../server.ts';
import { type AdminClient, adminClient, runningServer } from './admin-client.ts';
import { startServer } from './start.ts';

const HELP = `Usage: dostup <command>

  start                         start the server (PORT, HOST, DATABASE_URL, … see README)
  migrate                       apply database migrations and exit
  realm apply FILE              create or replace a realm from a YAML/JSON policy file
  realm check FILE              validate a policy file without applying it
  realm list | realm show NAME  list realms / print one policy as JSON
  realm schema                  print the JSON Schema of realm policy files
  user add --realm R [--login L] [--email E] [--phone P] [--locale ru|en] [--birth-date YYYY-MM-DD]
           [--rights a,b] [--password-stdin]
  user list --realm R [--limit N]
  user show --realm R ID
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    switch (cmd) {
      case 'start':
        await startServer(loadConfig());
        return -1; // keeps running
      case 'migrate': {
        const d = await createDostup(loadConfig());
        await d.close();
        console.log('migrations applied');
        return 0;
      }
      case 'realm':
        return await realmCommand(sub, rest);
      case 'user':
        return await userCommand(sub, rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return 0;
      default:
        console.error(`unknown command "${cmd}"\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  if (e instanceof ConfigError) console.error(e.message);
  else if (e instanceof DostupError) {
    console.error(`error ${e.code}: ${e.message}`);
    for (const i of e.issues) console.error(`  at ${i.path || '/'}: ${i.detail ?? i.messageId}`);
  } else console.error(`error: ${(e as Error).message ?? e}`);
  return 1;
}

/** Run against the live server's admin API when one owns the data dir, else open the store. */
async function withBackend<T>(fn: (api: AdminClient) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const running = await runningServer(config);
  if (running) return fn(adminClient(running.url, running.token));
  const d = await createDostup(config, { logger: (await import('pino')).default({ level: 'warn' }) });
  try {
    await d.realms.ensureDefault(config.DOSTUP_DEFAULT_REALM, publicUrl(config));
    return await fn(adminClient.direct(d));
  } finally {
    await d.close();
  }
}

async function realmCommand(sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'schema') {
    console.log(JSON.stringify(realmPolicyJsonSchema(), null, 2));
    return 0;
  }
  if (sub === 'check' || sub === 'apply') {
    const file = args[0];
    if (!file) throw new Error(`usage: dostup realm ${sub} FILE`);
    const policy = parseRealmPolicyText(readFileSync(file, 'utf8'), file);
    if (sub === 'check') {
      console.log(`${file}: valid realm "${policy.name}"`);
      return 0;
    }
    await withBackend((api) => api.applyRealm(policy));
    console.log(`realm "${policy.name}" applied`);
    return 0;
  }
  if (sub === 'list') {
    const realms = await withBackend((api) => api.listRealms());
    for (const r of realms) console.log(`${r.name}\t${(r.policy as { baseUrl: string }).baseUrl}`);
    return 0;
  }
  if (sub === 'show') {
    const name = args[0];
    if (!name) throw new Error('usage: dostup realm show NAME');
    console.log(JSON.stringify(await withBackend((api) => api.getRealm(name)), null, 2));
    return 0;
  }
  throw new Error('usage: dostup realm apply|check|list|show|schema');
}

async function userCommand(sub: string | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      realm: { type: 'string', default: 'main' },
      login: { type: 'string' },
      email: { type: 'string' },
      phone: { type: 'string' },
      locale: { type: 'string' },
      'birth-date': { type: 'string' },
      rights: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      limit: { type: 'string', default: '50' },
    },
  });
  const realm = values.realm;
  if (sub === 'add') {
    const password = values['password-stdin'] ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : null;
    const user = await withBackend((api) =>
      api.addUser(realm, {
        login: values.login ?? null,
        email: values.email ?? null,
        phone: values.phone ?? null,
        locale: (values.locale as 'ru' | 'en' | undefined) ?? null,
        birthDate: values['birth-date'] ?? null,
        ...(values.rights !== undefined
          ? {
              rights: values.rights
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean),
            }
          : {}),
        password,
      }),
    );
    console.log(JSON.stringify(user, null, 2));
    if (!password) console.log('note: no password set; pass one with --password-stdin');
    return 0;
  }
  if (sub === 'list') {
    const users = await withBackend((api) => api.listUsers(realm, Number(values.limit)));
    for (const u of users) console.log(`${u.id}\t${u.login ?? '-'}\t${u.email ?? '-'}\t${u.status}`);
    return 0;
  }
  if (sub === 'show') {
    const id = positionals[0];
    if (!id) throw new Error('usage: dostup user show --realm R ID');
    console.log(JSON.stringify(await withBackend((api) => api.getUser(realm, id)), null, 2));
    return 0;
  }
  throw new Error('usage: dostup user add|list|show');
}
