/**
 * How busy the machine is with work that is not the bench's. The bench shares 2 cores
 * with whatever else runs (a test suite, a build); a scenario measured while other
 * processes took a core is not a fair figure. Every 500 ms this samples the machine's
 * busy CPU time (/proc/stat) and the CPU time of this process tree (the runner, its
 * servers, clients and embedded PostgreSQL — children that exited are counted through
 * their parent's cutime/cstime); the difference is everyone else's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { CLOCK_TICKS_PER_SECOND } from './util.js';

interface Sample {
  at: number;
  machineBusy: number;
  machineKernel: number;
  ours: number;
}

/** The whole machine's busy ticks, and those of them spent in the kernel. */
function machineTicks(): { busy: number; kernel: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return { busy: user + nice + system + irq + softirq + steal, kernel: system + irq + softirq };
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
  const machine = machineTicks();
  return { at: performance.now(), machineBusy: machine.busy, machineKernel: machine.kernel, ours: ourTicks(extraRoots) };
}

export interface LoadReport {
  /** Average cores used by processes that are not the bench's. */
  foreignCores: number;
  /** Average cores used by the bench (runner, servers, clients, embedded database). */
  benchCores: number;
  /** Average cores the whole machine spent in the kernel (system calls, interrupts): a socket write is mostly that. */
  kernelCores: number;
}

interface LoadMark {
  at: number;
  foreign: number;
  ours: number;
  kernel: number;
}

export class LoadMonitor {
  private last: Sample;
  private foreignTicks = 0;
  private ourTicksTotal = 0;
  private kernelTicks = 0;
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
    this.kernelTicks += Math.max(0, next.machineKernel - this.last.machineKernel);
    this.last = next;
  }

  /** A mark to measure from. */
  mark(): LoadMark {
    this.tick();
    return { at: performance.now(), foreign: this.foreignTicks, ours: this.ourTicksTotal, kernel: this.kernelTicks };
  }

  since(mark: LoadMark): LoadReport {
    this.tick();
    const seconds = Math.max(0.001, (performance.now() - mark.at) / 1000);
    return {
      foreignCores: (this.foreignTicks - mark.foreign) / CLOCK_TICKS_PER_SECOND / seconds,
      benchCores: (this.ourTicksTotal - mark.ours) / CLOCK_TICKS_PER_SECOND / seconds,
      kernelCores: (this.kernelTicks - mark.kernel) / CLOCK_TICKS_PER_SECOND / seconds,
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
