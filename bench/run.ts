/**
 * `npm run bench` — SecureChat's benchmark suite (issue 5). Starts real servers on
 * 127.0.0.1 with temporary data, drives them from separate client processes, prints one
 * JSON object per scenario on stdout, and writes the table to docs/benchmarks.md (and
 * each kind of run's latest section to docs/benchmarks-history.md).
 *
 *   npm run bench                       full suite on SQLite (several minutes)
 *   npm run bench -- --quick            ~1 minute smoke run (CI): exits non-zero on any lost message or error
 *   npm run bench -- --postgres         on PostgreSQL: an embedded server, or BENCH_DATABASE_URL (admin URL)
 *   npm run bench -- --only fanout,send run some scenarios
 *   npm run bench -- --profile /tmp/p   also write server CPU profiles (node --cpu-prof) there, each with its flame graph (.svg)
 *
 * Targets not met are reported, never a failure: this is a measurement, not a test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchDatabases } from './lib/databases.js';
import { probeCpu } from './lib/cpu.js';
import { readCpuProfile } from './lib/cpu-profile.js';
import { flameGraphSvg } from './lib/flame-graph.js';
import { probeDisk, type DiskProbe } from './lib/disk.js';
import { LoadMonitor } from './lib/machine-load.js';
import { machineInfo, writeRun, type ScenarioResult } from './lib/report.js';
import { fail, newResult, Scope, type BenchContext, type Scenario } from './lib/scenario.js';
import { REPO_ROOT } from './lib/server.js';
import { formatNumber, progress, sleep, withDeadline } from './lib/util.js';
import { killAllWorkers } from './lib/workers.js';
import { changeFanoutScenario } from './scenarios/change-fanout.js';
import { coldLoadScenario } from './scenarios/cold-load.js';
import { connectionsScenario } from './scenarios/connections.js';
import { cryptoScenario } from './scenarios/crypto.js';
import { fanoutClusterScenario } from './scenarios/fanout-cluster.js';
import { fanoutCaseNamed, fanoutScenario, type Case as FanoutCase } from './scenarios/fanout.js';
import { filesScenario } from './scenarios/files.js';
import { historyScenario } from './scenarios/history.js';
import { loginScenario } from './scenarios/login.js';
import { rotationScenario } from './scenarios/rotation.js';
import { searchScenario } from './scenarios/search.js';
import { sendScenario } from './scenarios/send.js';
import { userSearchScenario } from './scenarios/user-search.js';

const SCENARIOS: Scenario[] = [cryptoScenario, rotationScenario, historyScenario, sendScenario, fanoutScenario, fanoutClusterScenario, connectionsScenario, loginScenario, coldLoadScenario, userSearchScenario, changeFanoutScenario, filesScenario, searchScenario];

/** Average cores taken by other processes above which a figure is flagged as disturbed. */
const FOREIGN_LOAD_WARNING = 0.25;

function diskText(before: DiskProbe, after: DiskProbe): string {
  const one = (p: DiskProbe) => `${formatNumber(p.syncsPerSec)} fdatasync/s (p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms)`;
  return `4 KiB append + fdatasync in ${os.tmpdir()}: ${one(before)} before the run, ${one(after)} after it`;
}

/** Waits (up to `budgetMs`) until other processes use almost no CPU; returns the ms waited. */
async function waitForQuiet(load: LoadMonitor, budgetMs: number): Promise<number> {
  const began = Date.now();
  const until = began + budgetMs;
  for (;;) {
    const mark = load.mark();
    await sleep(2_000);
    const { foreignCores } = load.since(mark);
    if (foreignCores <= 0.15) return Date.now() - began;
    if (Date.now() > until) {
      progress(`the machine is still busy (${foreignCores.toFixed(2)} cores used by other processes); going on`);
      return Date.now() - began;
    }
    progress(`waiting: other processes use ${foreignCores.toFixed(2)} cores`);
  }
}

const USAGE = `Usage: npm run bench -- [options]
  --quick              small sizes, about a minute (what CI runs)
  --postgres           PostgreSQL instead of SQLite (embedded, or BENCH_DATABASE_URL)
  --only <ids>         comma-separated: ${SCENARIOS.map((s) => s.id).join(', ')}
  --built              run dist/server/main.js (npm run build:server) instead of the sources via tsx
  --log-level <level>  the servers' LOG_LEVEL (default warn; info logs every request)
  --profile <dir>      write each server's CPU profile (node --cpu-prof) into <dir>, and a flame graph (.svg) of each
  --fanout <case>      only this case of the fan-out sweep, e.g. 1000x10@55000 (clients x room size @ deliveries/s)
  --clients <n>        client processes per scenario (default 2)
  --docs <file>        where to write the latest run's table (default docs/benchmarks.md)
  --history <file>     where to write each kind of run's latest section, notes included (default <docs>-history.md)
  --no-docs            write neither
  --wait-quiet <s>     before each scenario, wait up to <s> seconds for other processes to leave the CPU
Exit status: 0 when every scenario ran and no acknowledged message was lost; 1 otherwise.`;

/** Which code was measured: the commit, and whether src/ had uncommitted changes. */
function sourceVersion(): string {
  if (process.env.BENCH_SOURCE_LABEL) return process.env.BENCH_SOURCE_LABEL;
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') ? `${commit} with uncommitted changes in src/` : commit;
  } catch {
    return 'unknown (not a git checkout; set BENCH_SOURCE_LABEL)';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
      only: { type: 'string' },
      built: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'warn' },
      profile: { type: 'string' },
      clients: { type: 'string', default: '2' },
      fanout: { type: 'string' },
      docs: { type: 'string', default: path.join(REPO_ROOT, 'docs/benchmarks.md') },
      history: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      'wait-quiet': { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const clientProcesses = Number(values.clients);
  if (!Number.isInteger(clientProcesses) || clientProcesses < 1 || clientProcesses > 16) {
    console.error(`--clients must be a whole number from 1 to 16\n${USAGE}`);
    return 2;
  }
  let fanoutCase: FanoutCase | undefined;
  try {
    fanoutCase = values.fanout === undefined ? undefined : fanoutCaseNamed(values.fanout);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
  // What a partial run ran, for its section's heading: the scenarios, and the one fan-out case.
  const partial =
    only || fanoutCase ? selected.map((s) => (s.id === 'fanout' && fanoutCase ? `fanout ${values.fanout!.trim()}` : s.id)) : undefined;
  const mode = values.quick ? 'quick' : 'full';
  const started = Date.now();
  const databases = await openBenchDatabases(values.postgres ? 'postgres' : 'sqlite');
  const ctx: BenchContext = {
    quick: values.quick,
    mode,
    databases,
    server: { built: values.built, logLevel: values['log-level'], profileDir: values.profile ? path.resolve(values.profile) : undefined },
    clientProcesses,
    ...(fanoutCase ? { fanoutCase } : {}),
  };
  const machine = machineInfo();
  progress(`${mode} run on ${databases.dialect}; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  progress(`clients run in separate processes on the same ${machine.cores} cores as the server and compete with it for CPU`);

  const cpuBefore = probeCpu();
  progress(`cpu: ${formatNumber(cpuBefore)} SHA-256 of 1 KiB/s on one core`);
  const diskBefore = probeDisk();
  progress(`disk: ${formatNumber(diskBefore.syncsPerSec)} fdatasync/s (p99 ${diskBefore.latencyMs.p99} ms) in ${os.tmpdir()}`);
  const results: ScenarioResult[] = [];
  const load = new LoadMonitor(databases.externalServerPid ? [databases.externalServerPid] : []);
  const waitQuietMs = Number(values['wait-quiet']) * 1000;
  let waitedMs = 0;
  let current: Scope | undefined;
  const interrupt = (signal: string) => {
    progress(`${signal}: stopping servers and clients`);
    killAllWorkers();
    void (current?.dispose() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));

  try {
    for (const scenario of selected) {
      const scope = new Scope(ctx);
      current = scope;
      let open = true;
      if (waitQuietMs > 0) waitedMs += await waitForQuiet(load, waitQuietMs);
      let mark = load.mark();
      const emit = (result: ScenarioResult) => {
        if (!open) return;
        const machine = load.since(mark);
        mark = load.mark();
        result.details.machineLoad = {
          foreignCores: Number(machine.foreignCores.toFixed(2)),
          benchCores: Number(machine.benchCores.toFixed(2)),
          kernelCores: Number(machine.kernelCores.toFixed(2)),
        };
        result.notes.push(`machine: ${(machine.foreignCores + machine.benchCores).toFixed(2)} cores busy on average, ${machine.kernelCores.toFixed(2)} of them in the kernel`);
        if (machine.foreignCores > FOREIGN_LOAD_WARNING) {
          result.notes.push(`other processes on this machine used ${machine.foreignCores.toFixed(2)} cores on average meanwhile: these figures are disturbed`);
        }
        results.push(result);
        process.stdout.write(`${JSON.stringify(result)}\n`);
        const figures = result.figures.map((f) => `${f.figure} ${formatNumber(f.value)} ${f.unit}${f.target ? ` (${f.target.text}: ${f.target.met ? 'met' : 'NOT met'})` : ''}`);
        progress(`${result.ok ? 'ok  ' : 'FAIL'} ${result.name}: ${figures.join('; ')}${result.failures.length ? ` — ${result.failures.join('; ')}` : ''}`);
      };
      progress(`== ${scenario.title}`);
      const run = scenario.run(ctx, scope, emit);
      run.catch(() => undefined); // after a time-out it may still reject; that is reported below
      try {
        await withDeadline(run, scenario.limitMs(ctx), `scenario ${scenario.id}`);
      } catch (error) {
        const result = newResult(ctx, scenario.id, `${scenario.title} (did not complete)`);
        fail(result, error instanceof Error ? error.message : String(error));
        emit(result);
      } finally {
        open = false;
        await scope.dispose();
      }
    }
  } finally {
    current = undefined;
    load.stop();
    await databases.close();
  }

  const info = {
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    mode,
    dialect: databases.dialect,
    database: databases.description,
    ...machine,
    server: `${values.built ? '`node dist/server/main.js`' : '`node --import tsx src/server/main.ts`'} at ${sourceVersion()}`,
    logLevel: values['log-level'],
    cpuSpeed: `${formatNumber(cpuBefore)} SHA-256 of 1 KiB/s on one core before the run, ${formatNumber(probeCpu())} after it`,
    disk: diskText(diskBefore, probeDisk()),
    durationMs: Date.now() - started - waitedMs,
    waitedMs,
    ...(partial ? { only: partial } : {}),
  } as const;
  if (!values['no-docs']) {
    // The latest run in the docs file; in the history, one section per mode and database
    // (a durable PostgreSQL apart from the embedded one; partial runs apart).
    const durable = databases.dialect === 'postgres' && /durable commits/.test(databases.description) ? '-durable' : '';
    const history = values.history ?? values.docs.replace(/(\.md)?$/, '-history.md');
    writeRun(values.docs, history, `${mode}-${databases.dialect}${durable}${partial ? '-partial' : ''}`, info, results);
    progress(`wrote ${path.relative(process.cwd(), values.docs)} and ${path.relative(process.cwd(), history)}`);
  }
  if (ctx.server.profileDir) writeFlameGraphs(ctx.server.profileDir);
  const failed = results.filter((r) => !r.ok);
  progress(`done in ${Math.round((Date.now() - started) / 1000)} s: ${results.length - failed.length} ok, ${failed.length} failed`);
  for (const r of failed) progress(`FAILED ${r.name}: ${r.failures.join('; ')}`);
  return failed.length === 0 ? 0 : 1;
}

/** A flame graph beside each CPU profile the servers wrote (they write them as they exit). */
function writeFlameGraphs(dir: string): void {
  if (!existsSync(dir)) return; // no scenario started a server
  const profiles = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.cpuprofile'));
  let drawn = 0;
  for (const name of profiles) {
    const file = path.join(dir, name);
    try {
      writeFileSync(file.replace(/\.cpuprofile$/, '.svg'), flameGraphSvg(readCpuProfile(file), { title: name }));
      drawn += 1;
    } catch (error) {
      // A server killed while writing its profile leaves it cut short: the run's results still stand.
      progress(`no flame graph for ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  progress(`${profiles.length} CPU profiles in ${dir}, ${drawn} with a flame graph (.svg) beside it`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error);
    killAllWorkers();
    process.exit(1);
  },
);
