// Bound V8's young generation. V8 grows the nursery (where every request's short-lived objects
// start) by doubling, up to 32 MB on Node 20 and 128 MB on Node 24, and never gives it back while
// anything at all runs — a server polling its outbox is never quiet enough for V8 to shrink it. The
// bound is a trade, measured on recovery requests (A/B, alternated): a 4–8 MB nursery cost 0.3–0.5
// ms of scavenging per request (what is in flight, e.g. flows waiting out their random pause, gets
// copied again and again), 16 MB 0.085–0.10 ms, V8's own 32 MB 0.08–0.086 — and 16 instead of 32
// left the idle server 9–17 MB smaller. The default bound (32) stops it at 16. Node reads
// --max-semi-space-size only at launch, which `node bin/dostup.js start` does not pass; the growth
// factor, though, V8 reads at each growth: 2 (V8's default) until the nursery reaches the bound, then 1.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const MiB = 1024 * 1024;

function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Let the nursery grow (V8's doubling) to at most `maxMiB` (both semi-spaces); 0 = no cap, V8's
 * own sizing. The observer runs after the scavenge that grew it, sometimes after the next one: so
 * growth stops once the nursery is half the cap, and at worst one more doubling reaches the cap.
 * bin/dostup.js holds the nursery still until this is called.
 *
 * The observer stays for the process's life, because V8 also shrinks the nursery: Node 24's V8 drops
 * it to 1 MB on a memory-reducing collection (the idle collection's last-resort one, its own memory
 * reducer), and with the growth factor left at 1 it would never grow again — every later burst of
 * requests would pay the 4–8 MB price above, or worse (measured on Node 24: 16 MB → 1 MB after the
 * idle collection, 2 MB after the next burst). So: below half the cap, V8 may double; at or over it,
 * not. The check is one V8 call per collection and a flag write only when the answer changes.
 */
export function capYoungGeneration(maxMiB: number): void {
  let factor = 0;
  const setGrowth = (f: number) => {
    if (f === factor) return;
    factor = f;
    v8.setFlagsFromString(`--semi-space-growth-factor=${f}`);
  };
  if (maxMiB <= 0) {
    setGrowth(2);
    return;
  }
  const halfCap = (maxMiB * MiB) / 2;
  const adjust = () => setGrowth(newSpaceBytes() >= halfCap ? 1 : 2);
  adjust();
  // Growth and shrinking happen inside a collection; the observer sees each one just after it.
  new PerformanceObserver(adjust).observe({ entryTypes: ['gc'] });
}
