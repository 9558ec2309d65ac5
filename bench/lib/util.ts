/** Small helpers shared by the runner, the scenarios and the worker processes. */
import { readFileSync } from 'node:fs';
export { freePort } from '../../test/support/free-port.js';

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on
 * one machine (each process's timeOrigin is read from the system clock at start): senders
 * stamp messages with it and receivers subtract it.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown when a scenario, a worker or the server breaks its time limit. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** Resolves like `promise`, or rejects with a DeadlineError after `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** /proc reports CPU time in clock ticks (USER_HZ), 100 a second on Linux. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a live process has used, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  // Fields after the command name: state is 3rd, utime 14th, stime 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Starts measuring some processes' CPU; the function returned gives the cores they have used since. */
export function startCpuMeter(pids: readonly number[]): () => number {
  const cpuSeconds = () => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const cpuBefore = cpuSeconds();
  const wallBefore = wallNow();
  return () => (cpuSeconds() - cpuBefore) / ((wallNow() - wallBefore) / 1000);
}

/** The soft limit on open files of a process (from /proc/<pid>/limits). */
export function openFilesLimit(pid: number | 'self' = 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

/** Fails with a clear message when this process may not open `needed` more files. */
export function requireOpenFiles(needed: number, who: string): void {
  const limit = openFilesLimit();
  if (limit < needed) {
    throw new Error(
      `${who} needs about ${needed} open files but the limit is ${limit} (ulimit -n). ` +
        `Node raises the soft limit to the hard one at start, so raise the hard limit: ` +
        `\`ulimit -Hn ${needed + 1024}\` as root (or in /etc/security/limits.conf) and run again, or use fewer connections.`,
    );
  }
}

/** 12345.6 → "12,346"; small numbers keep a few significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toPrecision(3).replace(/\.?0+$/, '') || '0';
}

export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (Math.abs(bytes) >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** Progress lines go to stderr; stdout carries only the JSON results. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Splits `items` into `parts` nearly equal consecutive slices. */
export function split<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < parts; i++) {
    out.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  }
  return out;
}
