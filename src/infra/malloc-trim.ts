// Give the C heap's free pages back to the system after a burst. glibc returns freed memory only
// from the top of its main heap; everything freed below a block still in use stays resident. A
// server's C heap is made of exactly that pattern — socket read buffers, Buffers behind every
// database page the embedded PGlite reads, hashing scratch — so after a load peak ~35 MB of the
// process's resident memory is free heap that only malloc_trim(3) hands back (measured: the main
// heap went from 50 to 14 MB resident, idle RSS 249 → 210 MiB). Node has no binding for it; koffi
// (an FFI library shipping prebuilt binaries in its npm packages) calls it. Anywhere glibc is not
// the C library (musl, macOS, Windows) this is simply absent.
import { createRequire } from 'node:module';

/** glibc's malloc_trim(0) as a function, or null where it doesn't exist or can't be loaded. */
export function loadMallocTrim(): (() => void) | null {
  if (process.platform !== 'linux') return null;
  // musl has no libc.so.6 and no malloc_trim: load or func throws, and the answer is null.
  try {
    // Loaded only in a serving process that wants it: ~3.5 MB of native code nobody else pays for.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const trim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => {
      trim(0);
    };
  } catch {
    return null;
  }
}
