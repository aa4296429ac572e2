import { describe, expect, it } from 'vitest';
import { runInFreshNode } from './testing/fresh-node.ts';

// V8's nursery only ever grows, so each case needs a fresh process: held still at start as
// bin/dostup.js does, then capped (or not) the way `dostup start` does, then a request-like
// allocation pattern — many small bursts, each leaving a little alive for a while.
function nurseryAfterLoad(capMiB: number): number {
  const mod = new URL('./young-gen.ts', import.meta.url).href;
  const script = `
    import v8 from 'node:v8';
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    const { capYoungGeneration } = await import(${JSON.stringify(mod)});
    capYoungGeneration(${capMiB});
    let keep = [];
    for (let k = 0; k < 400; k++) {
      const a = [];
      for (let i = 0; i < 10000; i++) a.push({ i, s: 'x' + i });
      keep.push(a);
      if (keep.length > 3) keep.shift();
      await new Promise((r) => setImmediate(r));
    }
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    console.log(s.space_size);
  `;
  return Number(runInFreshNode(script)) / (1024 * 1024);
}

describe('young generation cap', () => {
  it('keeps the nursery at or under the cap under load', () => {
    const capped = nurseryAfterLoad(8);
    expect(capped).toBeGreaterThanOrEqual(4);
    expect(capped).toBeLessThanOrEqual(8);
  });

  it('with 0, leaves V8 to grow it past that (the cap is what held it)', () => {
    expect(nurseryAfterLoad(0)).toBeGreaterThan(8);
  });
});
