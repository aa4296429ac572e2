import { describe, expect, it } from 'vitest';
import { loadMallocTrim } from './malloc-trim.ts';
import { runInFreshNode } from './testing/fresh-node.ts';

const glibc = Boolean(
  (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
    ?.glibcVersionRuntime,
);

describe('malloc_trim', () => {
  it.runIf(glibc)('is there on glibc Linux', () => {
    expect(loadMallocTrim()).toBeTypeOf('function');
  });

  // A fresh process, so no other test's memory moves the numbers: fill the C heap with small
  // buffers, keep the last one (so nothing can be returned from the top), free the rest.
  it.runIf(glibc)('hands free C-heap pages below a live block back to the system', () => {
    const mod = new URL('./malloc-trim.ts', import.meta.url).href;
    const script = `
      const { loadMallocTrim } = await import(${JSON.stringify(mod)});
      const trim = loadMallocTrim();
      let bufs = [];
      for (let i = 0; i < 60000; i++) bufs.push(Buffer.allocUnsafeSlow(1000).fill(1));
      const last = bufs.pop();
      bufs = null;
      for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 200)); }
      const before = process.memoryUsage().rss;
      trim();
      const after = process.memoryUsage().rss;
      console.log(JSON.stringify({ before, after, keep: last.length }));
    `;
    const { before, after } = JSON.parse(runInFreshNode(script, ['--expose-gc'])) as { before: number; after: number };
    // ~60 MB was freed; without the trim none of it leaves the process.
    expect((before - after) / (1024 * 1024)).toBeGreaterThan(20);
  });
});
