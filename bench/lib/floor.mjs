// The whoami yardstick: a bare fastify route in its own process (floor-server.mjs) answering the
// body of a real whoami response, measured with the very requests (cookies included) of the whoami
// phase it judges, so only the server side differs. Shared by bench/run.mjs and bench/ab.mjs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPhase } from './phases.mjs';
import { freePort, jsonRequest, sleep } from './util.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const whoamiReq = (cookie) => ({ method: 'GET', path: '/api/v1/whoami', headers: { cookie } });

/**
 * Starts the floor server (`coalesce`: with Dostup's write coalescing, see floor-server.mjs); `children` (a Set) gets its process so the caller's exit handler can kill
 * it; `maxS` bounds its life even if the caller dies without stopping it.
 */
export async function startFloor(body, { cfg, children = new Set(), maxS = 1800, coalesce = false }) {
  const port = await freePort();
  const file = path.join(os.tmpdir(), `dostup-bench-floor-${process.pid}-${port}.json`);
  fs.writeFileSync(file, body);
  const child = spawn(
    process.execPath,
    [path.join(HERE, 'floor-server.mjs'), String(port), file, String(maxS), ...(coalesce ? ['coalesce'] : [])],
    {
      stdio: 'inherit',
    },
  );
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    child.kill('SIGTERM');
    children.delete(child);
    fs.rmSync(file, { force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (i > 100) throw new Error('floor server not up in 10 s');
      try {
        if ((await jsonRequest(base, 'GET', '/health', { timeoutMs: 1000 })).status === 200) break;
      } catch {}
      await sleep(100);
    }
  } catch (e) {
    stop();
    throw e;
  }
  return {
    measure: async (name, cookies) => ({
      ...(await loadPhase(name, { base, pid: child.pid, requests: cookies.map(whoamiReq), cfg })),
      bodyBytes: Buffer.byteLength(body),
    }),
    stop,
  };
}
