/**
 * How busy the machine is with work that is not the bench's. The bench shares 2 cores
 * with whatever else runs (a test suite, a build); a scenario measured while other
 * processes took a core is not a fair figure. Every 500 ms this samples the machine's
 * busy CPU time (/proc/stat) and the CPU time of this process tree (the runner, its
 * servers, clients and embedded PostgreSQL — children that exited are counted through
 * their parent's cutime/cstime); the difference is everyone else's.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface Sample {
  at: number;
  machineBusy: number;
  ours: number;
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
}

/** ticks of this process tree (and of `extraRoots`' trees): utime + stime + cutime + cstime of every live member. */
function ourTicks(extraRoots: readonly number[]): number {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
    } catch {
      // the process exited meanwhile
    }
  }
  const ours = new Set([process.pid, ...extraRoots]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!ours.has(pid) && ours.has(parent)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of ours) total += cpu.get(pid) ?? 0;
  return total;
}

function sample(extraRoots: readonly number[]): Sample {
  return { at: performance.now(), machineBusy: machineBusyTicks(), ours: ourTicks(extraRoots) };
}

export interface LoadReport {
  /** Average cores used by processes that are not the bench's. */
  foreignCores: number;
  /** Average cores used by the bench (runner, servers, clients, embedded database). */
  benchCores: number;
}

export class LoadMonitor {
  private last: Sample;
  private foreignTicks = 0;
  private ourTicksTotal = 0;
  private readonly timer: NodeJS.Timeout;

  /** `extraRoots`: processes not started by the bench that work for it (a local PostgreSQL). */
  constructor(private readonly extraRoots: readonly number[] = []) {
    this.last = sample(extraRoots);
    this.timer = setInterval(() => this.tick(), 500);
    this.timer.unref();
  }

  private tick(): void {
    const next = sample(this.extraRoots);
    const ours = Math.max(0, next.ours - this.last.ours);
    const busy = Math.max(0, next.machineBusy - this.last.machineBusy);
    this.ourTicksTotal += ours;
    this.foreignTicks += Math.max(0, busy - ours);
    this.last = next;
  }

  /** A mark to measure from. */
  mark(): { at: number; foreign: number; ours: number } {
    this.tick();
    return { at: performance.now(), foreign: this.foreignTicks, ours: this.ourTicksTotal };
  }

  since(mark: { at: number; foreign: number; ours: number }): LoadReport {
    this.tick();
    const seconds = Math.max(0.001, (performance.now() - mark.at) / 1000);
    return {
      foreignCores: (this.foreignTicks - mark.foreign) / TICKS_PER_SECOND / seconds,
      benchCores: (this.ourTicksTotal - mark.ours) / TICKS_PER_SECOND / seconds,
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
