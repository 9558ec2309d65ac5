/** Figures of bulk transfers measured in several client processes (the files bench). */

/** Bytes over the span from the first start to the last finish of the parts, in MB/s (10⁶ B/s). */
export function megabytesPerSecond(parts: ReadonlyArray<{ bytes: number; startedAt: number; finishedAt: number }>): number {
  const bytes = parts.reduce((sum, p) => sum + p.bytes, 0);
  const ms = Math.max(...parts.map((p) => p.finishedAt)) - Math.min(...parts.map((p) => p.startedAt));
  return bytes === 0 || !(ms > 0) ? 0 : bytes / 1e6 / (ms / 1000);
}

/** Status counts merged; and every count that is not `ok`, as text ("" when there is none). */
export function statusProblems(parts: ReadonlyArray<{ statuses: Record<string, number> }>, ok: number): { statuses: Record<string, number>; problems: string } {
  const statuses: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const bad = Object.entries(statuses).filter(([k]) => k !== String(ok));
  return { statuses, problems: bad.map(([k, n]) => `${n} × ${k}`).join(', ') };
}
