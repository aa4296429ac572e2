// The PostgreSQL scenario gets a database of its own, created fresh on the server that DATABASE_URL
// names and dropped afterwards: "fresh" must never mean wiping whatever database the caller pointed
// us at. Loopback servers only, like every other target of this benchmark.
import pg from 'pg';

function loopbackPgUrl(databaseUrl) {
  const u = new URL(databaseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`refusing non-loopback DATABASE_URL host ${u.hostname}`);
  }
  return u;
}

export async function createFreshDatabase(databaseUrl, name) {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = loopbackPgUrl(databaseUrl);
  const target = new URL(admin.href);
  target.pathname = `/${name}`;
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.href, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    await c.query(`drop database if exists ${name}`);
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  const direct = new pg.Pool({ connectionString: target.href, max: 1, connectionTimeoutMillis: 10_000 });
  return {
    url: target.href,
    name,
    /** Revoke behind the server's back, as another node (or an operator) would. */
    async revokeSession(sessionId) {
      const r = await direct.query('update sessions set revoked_at = now() where id = $1 and revoked_at is null', [
        sessionId,
      ]);
      if (r.rowCount !== 1) throw new Error(`direct revoke of ${sessionId} touched ${r.rowCount} rows`);
    },
    async drop() {
      await direct.end();
      const c2 = new pg.Client({ connectionString: admin.href, connectionTimeoutMillis: 10_000 });
      await c2.connect();
      try {
        await c2.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c2.end();
      }
    },
  };
}
