// All server settings in one validated place: environment variables, optionally a JSON/YAML file
// named by DOSTUP_CONFIG (env wins over the file). Every default is documented here and in the README;
// a bad value stops the start with a message naming the variable, and insecure choices are warned about.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

export const ConfigSchema = z
  .object({
    /** TCP port of the HTTP server. */
    PORT: intFrom(0, 65535).default(8080),
    /** Bind address; loopback by default so a fresh install is not exposed by accident. */
    HOST: z.string().min(1).default('127.0.0.1'),
    /** Public base URL of the default realm created on first start. */
    DOSTUP_PUBLIC_URL: z.string().url().optional(),
    /** Folder for the embedded database (PGlite) and the generated admin token. */
    DOSTUP_DATA_DIR: z.string().min(1).default('./data'),
    /** postgres://… switches storage from embedded PGlite to a PostgreSQL server. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    /**
     * shared_buffers of the embedded database. PGlite makes all of it resident at start; the
     * default (8MB, 1 024 pages) keeps an idle server small. Raise it (e.g. 128MB) for a large embedded user base.
     */
    PGLITE_SHARED_BUFFERS: z
      .string()
      .regex(/^[1-9][0-9]{0,5}(kB|MB|GB)$/, 'must be a size like 16MB, 512kB or 1GB')
      .default('8MB'),
    /**
     * Nice steps below the event loop for every other thread (password hashing, V8 helpers) on
     * Linux, so hashing can't starve request handling; 0 leaves priorities alone.
     */
    HELPER_THREAD_NICE: intFrom(0, 19).default(5),
    /**
     * Refuse use of the store itself inside one of its transactions (a deadlock on PGlite). A
     * developer's guard with a cost on Node 20 (process-wide promise hooks): on under NODE_ENV=test
     * (every test run), off otherwise unless set to 1.
     */
    STORE_CHECK_NESTED_USE: z.enum(['0', '1']).optional(),
    /** Pool size per node for PostgreSQL. */
    DATABASE_POOL_MAX: intFrom(1, 200).default(10),
    /** redis://… moves rate-limit counters (and session revocation news) to Redis, for several nodes. */
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    /** Admin API bearer token; when unset one is generated into the data dir on first start. */
    DOSTUP_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /**
     * Server secrets for HMACs of one-time codes and encryption of queued mail, comma-separated,
     * newest first (rotation: prepend a new one, drop the old one after the longest code lifetime).
     * When unset, one is generated into the data dir on first start.
     */
    DOSTUP_SECRETS: z
      .string()
      .refine((v) => v.split(',').every((s) => s.trim().length >= 32), 'every secret must be at least 32 characters')
      .optional(),
    /** smtp(s)://user:pass@host:port — real mail. Unset: mails go to the dev mailbox (/dev/mailbox). */
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
      .optional(),
    /** The From: address of every mail. */
    MAIL_FROM: z.string().min(3).max(200).default('Dostup <no-reply@localhost>'),
    /** Realm created on first start when no realm exists. */
    DOSTUP_DEFAULT_REALM: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .default('main'),
    /** argon2id cost (OWASP: m=19 MiB, t=2, p=1). */
    ARGON2_MEMORY_KIB: intFrom(8192, 1024 * 1024).default(19456),
    ARGON2_ITERATIONS: intFrom(1, 20).default(2),
    ARGON2_PARALLELISM: intFrom(1, 16).default(1),
    /**
     * Hashes handed to the thread pool at once, running or queued there (default: two per pool
     * thread, counting no more threads than cores: one running and one queued; src/infra/thread-pool.ts);
     * the rest wait in the server.
     */
    ARGON2_CONCURRENCY: intFrom(1, 64).optional(),
    /** Sign-in attempts per account per 15 minutes before 429. */
    RATE_SIGNIN_PER_ACCOUNT: intFrom(1, 100000).default(10),
    /** Sign-in attempts per IP per minute before 429. */
    RATE_SIGNIN_PER_IP: intFrom(1, 1000000).default(60),
    /** "Forgot password?" requests per IP per hour. */
    RATE_RECOVERY_PER_IP: intFrom(1, 1000000).default(30),
    /** Recovery requests per typed account per hour (known or not, alike). */
    RATE_RECOVERY_PER_ACCOUNT: intFrom(1, 1000000).default(5),
    /** Recovery mails one address may receive per hour (mail flooding). */
    RATE_RECOVERY_PER_DESTINATION: intFrom(1, 1000000).default(5),
    /** Code submissions per IP per hour (on top of the per-code attempt limit). */
    RATE_RECOVERY_VERIFY_PER_IP: intFrom(1, 1000000).default(60),
    /**
     * Group commit of sign-ins: while other passwords are being hashed, a new session's write waits
     * this long (ms) for theirs to share its statement; 0 = every session written alone at once.
     */
    SIGNIN_GROUP_COMMIT_MS: intFrom(0, 1000).default(25),
    /** How long a node may keep trusting a cached session (ms): the bound on cross-node revocation. */
    SESSION_CACHE_MS: intFrom(0, 60000).default(2000),
    /** Between housekeeping rounds (expired sessions, flows, codes; old mail), seconds; 0 = never. */
    HOUSEKEEPING_INTERVAL_S: intFrom(0, 86400).default(3600),
    /** Embedded PGlite only (it has no autovacuum): between VACUUMs of the busy tables, seconds; 0 = only after housekeeping. */
    PGLITE_VACUUM_INTERVAL_S: intFrom(0, 86400).default(10),
    /** After this long without a request following a busy spell, one full garbage collection (ms); 0 = never. */
    IDLE_GC_MS: intFrom(0, 600000).default(2000),
    /**
     * Largest size V8's young generation may grow to, MB (both semi-spaces; it stops between half of
     * this and this); 0 = V8's own (32 on Node 20, 128 on 24). Smaller saves idle memory but costs
     * scavenging: 4–8 MB cost recovery requests ~0.3–0.4 ms each (measured), 16–32 MB ~0.1.
     * The default stops it at 16 (Node 20 would grow it to 32, Node 24 to 128).
     */
    YOUNG_GENERATION_MB: intFrom(0, 1024).default(32),
    /** How long sent and abandoned mail stays in the outbox, days. */
    OUTBOX_KEEP_DAYS: intFrom(1, 3650).default(7),
    /** Trust X-Forwarded-For from a reverse proxy (only behind one you run). */
    TRUST_PROXY: bool.default(false),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Read config from `env` (and the file named by DOSTUP_CONFIG). Throws ConfigError naming each bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const keys = Object.keys(ConfigSchema.shape);
  let fromFile: Record<string, unknown> = {};
  if (env.DOSTUP_CONFIG) {
    try {
      const parsed = parseYaml(readFileSync(env.DOSTUP_CONFIG, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) fromFile = parsed as Record<string, unknown>;
      else throw new Error('the file must hold an object of settings');
    } catch (e) {
      throw new ConfigError([`DOSTUP_CONFIG (${env.DOSTUP_CONFIG}): ${(e as Error).message}`]);
    }
  }
  const raw: Record<string, unknown> = { ...fromFile };
  for (const k of keys) {
    const v = env[k];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  const res = ConfigSchema.safeParse(raw);
  if (!res.success) {
    throw new ConfigError(res.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`));
  }
  return {
    ...res.data,
    DOSTUP_DATA_DIR: path.resolve(res.data.DOSTUP_DATA_DIR),
    STORE_CHECK_NESTED_USE: res.data.STORE_CHECK_NESTED_USE ?? (env.NODE_ENV === 'test' ? '1' : '0'),
  };
}

export function publicUrl(cfg: Config): string {
  if (cfg.DOSTUP_PUBLIC_URL) return cfg.DOSTUP_PUBLIC_URL.replace(/\/$/, '');
  const host = cfg.HOST === '0.0.0.0' || cfg.HOST === '::' ? 'localhost' : cfg.HOST;
  return `http://${host === '127.0.0.1' ? 'localhost' : host}:${cfg.PORT}`;
}

/** Start-up warnings about settings that are unsafe for production. */
export function insecureSettings(cfg: Config): string[] {
  const w: string[] = [];
  const url = new URL(publicUrl(cfg));
  if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    w.push(`DOSTUP_PUBLIC_URL ${url.origin} is plain http outside localhost: session cookies cannot be Secure`);
  }
  if (cfg.ARGON2_MEMORY_KIB < 19456 || cfg.ARGON2_ITERATIONS < 2) {
    w.push('argon2id parameters are below the OWASP minimum (m=19456 KiB, t=2)');
  }
  if (cfg.DATABASE_URL && !cfg.DOSTUP_SECRETS) {
    w.push(
      'DATABASE_URL without DOSTUP_SECRETS: this node generated its own secret; several nodes need the same DOSTUP_SECRETS',
    );
  }
  if (!cfg.SMTP_URL) w.push('no SMTP_URL: mail goes to the dev mailbox at /dev/mailbox (not for production)');
  if (cfg.HOST !== '127.0.0.1' && cfg.HOST !== 'localhost' && !cfg.DATABASE_URL) {
    w.push(`listening on ${cfg.HOST} with the embedded database: fine for a trial, use DATABASE_URL for production`);
  }
  return w;
}
