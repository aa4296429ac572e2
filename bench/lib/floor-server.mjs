// Step b, the child process: the cheapest possible "whoami" on this box. A bare fastify route that
// answers the captured body of a real Dostup whoami response, so bytes on the wire match and the
// only difference left is what Dostup does per request (plugins, hooks, session lookup).
// Runs in its own process, like Dostup, so it never shares an event loop with autocannon.
// With `coalesce`, the same route with Dostup's write coalescing (src/http/plugins/write-coalescer.ts)
// and nothing else: the like-for-like yardstick, since the plain floor writes each response at once.
// Usage: node floor-server.mjs <port> <body file> [max seconds, default 600] [coalesce]
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, bodyFile, maxSeconds = '600', mode] = process.argv.slice(2);
const body = JSON.parse(readFileSync(bodyFile, 'utf8'));
const app = Fastify({ logger: false });
if (mode === 'coalesce') {
  const { createWriteCoalescer } = await import('../../dist/http/plugins/write-coalescer.js');
  const writes = createWriteCoalescer((e) => console.error(e));
  app.addHook('onSend', (_req, _reply, payload, done) => writes.defer(() => done(null, payload)));
}
app.get('/api/v1/whoami', async () => body);
app.get('/health', async () => ({ status: 'ok' }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
// Bounded even if the parent dies without killing us.
setTimeout(() => process.exit(0), Number(maxSeconds) * 1000).unref();
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
