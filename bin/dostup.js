#!/usr/bin/env node
// Entry point. Runs the compiled build (dist/, made by `npm run build`, which `npm install` runs)
// when it is newer than every source file; otherwise the TypeScript sources through tsx, so an
// edit is never shadowed by an old build. DOSTUP_FROM_SOURCE=1 forces the sources.
//
// CommonJS on purpose (bin/package.json): see the thread pool below.
'use strict';
const { readdirSync, statSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');

// Password hashing runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise).
// One thread per core, each with its next hash already queued (the hasher lets two hashes a thread
// in, src/infra/thread-pool.ts), keeps every core hashing under a burst of sign-ins: a thread that
// finishes takes the queued hash at once, instead of idling until the busy event loop has handled
// the result and handed over the next one, and no two hashes share a core (README, Benchmarks).
// libuv reads the variable once, when the pool starts; an ES-module entry is itself read through
// the pool, so only a CommonJS entry can still set it here.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(2, availableParallelism()));

// The embedded database is a 9 MB WebAssembly module. By default V8 compiles it twice (a quick
// baseline, then optimized code in the background) and keeps both for a while; compiling it
// optimized once costs ~1 s more at start and tens of MB less resident memory, at full speed from the
// first query. Must be set before the module is compiled, which happens when the store opens.
if (process.argv[2] === 'start') {
  v8.setFlagsFromString('--no-liftoff');
  // Loading the code and opening the store would double V8's nursery to its maximum (32 MB on Node
  // 20) before the server could say otherwise, and V8 never shrinks it back under a polling server:
  // hold it at its first size until `start` sets the configured cap (src/infra/young-gen.ts).
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

const root = path.resolve(__dirname, '..');

function builtAndFresh() {
  if (process.env.DOSTUP_FROM_SOURCE === '1') return false;
  let built;
  try {
    built = statSync(path.join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return false;
  }
  const src = path.join(root, 'src');
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && statSync(path.join(e.parentPath, e.name)).mtimeMs > built) return false;
  }
  return true;
}

async function run() {
  let main;
  if (builtAndFresh()) {
    ({ main } = await import('../dist/cli/main.js'));
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../src/cli/main.ts'));
  }
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
run();
