import { describe, expect, it } from 'vitest';
import { runInFreshNode } from './testing/fresh-node.ts';

// V8's nursery only grows while anything runs, so each case needs a fresh process: held still at
// start as bin/dostup.js does, then capped (or not) the way `dostup start` does, then a request-like
// allocation pattern — many small bursts, each leaving a little alive for a while. The size is
// sampled after every burst and the claim is the size it kept most of the time: not where it stood
// at the end (on a busy box V8 sometimes shrinks it mid-run, see young-gen.ts), nor its peak (Node
// 24's V8 lets the nursery run past its size while a major collection marks, whatever the cap).
function nurseryUnderLoad(capMiB: number, opts: { idleCollectionFirst?: boolean } = {}) {
  const mod = (f: string) => JSON.stringify(new URL(f, import.meta.url).href);
  const script = `
    import v8 from 'node:v8';
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    const { capYoungGeneration } = await import(${mod('./young-gen.ts')});
    const { exposeFullCollection } = await import(${mod('./idle-gc.ts')});
    capYoungGeneration(${capMiB});
    const size = () => v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size;
    async function load() {
      let keep = [];
      const seen = new Map();
      for (let k = 0; k < 400; k++) {
        const a = [];
        for (let i = 0; i < 10000; i++) a.push({ i, s: 'x' + i });
        keep.push(a);
        if (keep.length > 3) keep.shift();
        await new Promise((r) => setImmediate(r));
        seen.set(size(), (seen.get(size()) ?? 0) + 1);
      }
      return [...seen].sort((a, b) => b[1] - a[1])[0][0];
    }
    let afterCollection = null;
    if (${opts.idleCollectionFirst === true}) {
      await load();
      exposeFullCollection()();
      afterCollection = size();
    }
    console.log(JSON.stringify({ kept: await load(), afterCollection }));
  `;
  const r = JSON.parse(runInFreshNode(script)) as { kept: number; afterCollection: number | null };
  const mib = (n: number) => n / (1024 * 1024);
  return { kept: mib(r.kept), afterCollection: r.afterCollection === null ? null : mib(r.afterCollection) };
}

describe('young generation cap', () => {
  it('under load, keeps the nursery between half the cap and the cap', () => {
    const { kept } = nurseryUnderLoad(8);
    expect(kept).toBeGreaterThanOrEqual(4);
    expect(kept).toBeLessThanOrEqual(8);
  });

  it('with 0, leaves V8 to grow it past that (the cap is what held it)', () => {
    expect(nurseryUnderLoad(0).kept).toBeGreaterThan(8);
  });

  // Node 24's V8 drops the nursery to 1 MB on the idle collection; a cap that only ever stopped
  // growth would leave it there for good (measured: 2 MB through the next burst). Node 20's V8 keeps
  // its size, so there this checks only that the cap still holds after the collection.
  it('after the idle collection, the next burst grows it back to at least half the cap, not past it', () => {
    const { kept, afterCollection } = nurseryUnderLoad(8, { idleCollectionFirst: true });
    expect(afterCollection).not.toBeNull();
    expect(kept).toBeGreaterThanOrEqual(4);
    expect(kept).toBeLessThanOrEqual(8);
  });
});
