/**
 * What a scenario gets from the runner: the run's settings, and a scope that owns the
 * servers and client processes it starts, so the runner can stop them all when the
 * scenario ends — normally, by failing, or by running out of time.
 */
import type { BenchDatabases } from './databases.js';
import type { ScenarioResult } from './report.js';
import type { Case as FanoutCase } from '../scenarios/fanout.js';
import { BenchInstance, type ServerOptions } from './server.js';
import { startWorkers, type WorkerHandle, type WorkerScript } from './workers.js';
import { progress } from './util.js';

export interface BenchContext {
  quick: boolean;
  mode: 'quick' | 'full';
  databases: BenchDatabases;
  server: ServerOptions;
  /** Client processes per scenario that drives sockets or HTTP load. */
  clientProcesses: number;
  /** `--fanout`: the one fan-out case to run instead of the sweep. */
  fanoutCase?: FanoutCase;
}

export class Scope {
  private readonly instances: BenchInstance[] = [];
  private readonly workers: WorkerHandle[] = [];
  private readonly deferred: Array<() => Promise<void>> = [];

  constructor(private readonly ctx: BenchContext) {}

  /** A temporary data folder and database for one server (not started yet); `databases`: other than the run's. */
  async instance(label: string, databases: BenchDatabases = this.ctx.databases): Promise<BenchInstance> {
    const instance = await BenchInstance.create(label, databases, this.ctx.server);
    this.instances.push(instance);
    return instance;
  }

  /** Another server on `of`'s database and keys (see BenchInstance.replica), not started yet. */
  async replica(of: BenchInstance, label: string): Promise<BenchInstance> {
    const instance = await BenchInstance.replica(of, label);
    this.instances.push(instance);
    return instance;
  }

  async startWorkers(script: WorkerScript, prefix: string, count: number): Promise<WorkerHandle[]> {
    const started = await startWorkers(script, prefix, count);
    this.workers.push(...started);
    return started;
  }

  /** Something else to end with the scope (a browser, say), first, also when its deadline passes. */
  defer(end: () => Promise<void>): void {
    this.deferred.push(end);
  }

  /** Ends what was deferred, stops this scope's workers, then its servers, and removes their data. */
  async dispose(): Promise<void> {
    for (const end of this.deferred.splice(0).reverse()) await end().catch((e: unknown) => progress(`ending: ${String(e)}`));
    await Promise.all(this.workers.splice(0).map((w) => w.stop().catch((e: unknown) => progress(`stopping ${w.name}: ${String(e)}`))));
    // Every server stops before any database is dropped (replicas share their primary's).
    await Promise.all(this.instances.map((i) => i.stop().catch((e: unknown) => progress(`stopping ${i.label}: ${String(e)}`))));
    for (const instance of this.instances.splice(0)) {
      await instance.dispose().catch((e: unknown) => progress(`disposing ${instance.label}: ${String(e)}`));
    }
  }
}

export interface Scenario {
  id: string;
  title: string;
  /** Time limit for the whole scenario, in ms. */
  limitMs(ctx: BenchContext): number;
  run(ctx: BenchContext, scope: Scope, emit: (result: ScenarioResult) => void): Promise<void>;
}

/** A result skeleton with the run's mode and dialect filled in. */
export function newResult(ctx: BenchContext, scenario: string, name: string): ScenarioResult {
  return { scenario, name, mode: ctx.mode, dialect: ctx.databases.dialect, ok: true, failures: [], notes: [], figures: [], details: {}, durationMs: 0 };
}

export function fail(result: ScenarioResult, message: string): void {
  result.ok = false;
  result.failures.push(message);
}
