/**
 * How fast this machine's disk makes a write durable. SQLite with synchronous=FULL waits
 * for one fdatasync per commit (a durable PostgreSQL for one WAL flush), so this bounds
 * the acknowledged sends per second on one connection; other processes' disk traffic
 * moves it a lot, so each run records it.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Histogram, type LatencySummary } from './histogram.js';

export interface DiskProbe {
  /** fdatasync calls per second, one after another, each after a 4 KiB append. */
  syncsPerSec: number;
  latencyMs: LatencySummary;
}

/** Appends 4 KiB and fdatasyncs, again and again, for `ms`, in os.tmpdir() (where the bench's data lives). */
export function probeDisk(ms = 1_000): DiskProbe {
  const file = path.join(os.tmpdir(), `securechat-bench-fsync-${process.pid}`);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 7);
  const latency = new Histogram();
  const start = performance.now();
  try {
    while (performance.now() - start < ms) {
      const begin = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      latency.record(performance.now() - begin);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return { syncsPerSec: latency.count / ((performance.now() - start) / 1000), latencyMs: latency.summary() };
}
