/**
 * How fast one core of this machine is right now. The same VM has run 2.5–3× slower for
 * hours on unchanged code (docs/benchmarks-history.md), so each run records a fixed piece of work
 * beside its figures: two runs compare only when this does.
 */
import { createHash } from 'node:crypto';

/** SHA-256 of a 1 KiB block, again and again for `ms` on this thread; hashes per second. */
export function probeCpu(ms = 1_000): number {
  const block = Buffer.alloc(1024, 7);
  let hashes = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 100; i++) createHash('sha256').update(block).digest();
    hashes += 100;
  }
  return hashes / ((performance.now() - start) / 1000);
}
