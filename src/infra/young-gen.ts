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
 */
export function capYoungGeneration(maxMiB: number): void {
  const setGrowth = (factor: number) => v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  if (maxMiB <= 0) {
    setGrowth(2);
    return;
  }
  const halfCap = (maxMiB * MiB) / 2;
  if (newSpaceBytes() >= halfCap) {
    setGrowth(1);
    return;
  }
  setGrowth(2);
  // Growth happens inside a scavenge; the observer sees each collection just after it.
  const obs = new PerformanceObserver(() => {
    if (newSpaceBytes() < halfCap) return;
    setGrowth(1);
    obs.disconnect();
  });
  obs.observe({ entryTypes: ['gc'] });
}
