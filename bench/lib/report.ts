/**
 * Results: one JSON object per scenario on stdout, and Markdown: the latest run's table in
 * docs/benchmarks.md (one section, whatever the run's mode and database), and the latest
 * run of each (mode, database), notes included, in docs/benchmarks-history.md. The rest
 * of both files is written by hand and left alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatNumber } from './util.js';

export interface Target {
  /** e.g. "≥ 50,000" */
  text: string;
  met: boolean;
}

/** One measured figure, with what was sent to get it and what came back. */
export interface Figure {
  figure: string;
  value: number;
  unit: string;
  target?: Target;
  sent: string;
  received: string;
}

export interface ScenarioResult {
  scenario: string;
  name: string;
  mode: 'quick' | 'full';
  dialect: string;
  /** False when something went wrong that is not a matter of speed: lost messages, errors, a crash, a time limit. */
  ok: boolean;
  failures: string[];
  notes: string[];
  figures: Figure[];
  /** Raw numbers behind the figures. */
  details: Record<string, unknown>;
  durationMs: number;
}

export const atLeast = (value: number, bound: number, unit = ''): Target => ({ text: `≥ ${formatNumber(bound)}${unit}`, met: value >= bound });
export const below = (value: number, bound: number, unit = ''): Target => ({ text: `< ${formatNumber(bound)}${unit}`, met: value < bound });
export const atMost = (value: number, bound: number, unit = ''): Target => ({ text: `≤ ${formatNumber(bound)}${unit}`, met: value <= bound });

export interface RunInfo {
  date: string;
  mode: 'quick' | 'full';
  dialect: string;
  database: string;
  node: string;
  cpu: string;
  cores: number;
  memory: string;
  server: string;
  logLevel: string;
  /** One core's speed at the time (the same machine's speed changes by hours). */
  cpuSpeed: string;
  /** Durable-write speed of the disk the data lives on (it bounds durable commits). */
  disk: string;
  durationMs: number;
  /** Time spent waiting for other processes to leave the CPU (--wait-quiet), not in durationMs. */
  waitedMs?: number;
  /** The scenarios run, when not all of them (--only). */
  only?: string[];
}

export function machineInfo(): Pick<RunInfo, 'node' | 'cpu' | 'cores' | 'memory'> {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
  };
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function valueText(figure: Figure): string {
  if (!Number.isFinite(figure.value)) return 'n/a';
  return `${formatNumber(figure.value)}${figure.unit ? ` ${figure.unit}` : ''}`;
}

export interface RenderOptions {
  /** Where the notes are instead (a Markdown link), when they are left out of this section. */
  notesElsewhere?: string;
}

/** The Markdown section for one run. */
export function renderSection(info: RunInfo, results: readonly ScenarioResult[], options: RenderOptions = {}): string {
  const lines: string[] = [];
  const failed = results.filter((r) => !r.ok);
  const disturbed = results.filter((r) => ((r.details.machineLoad as { foreignCores?: number } | undefined)?.foreignCores ?? 0) > 0.25);
  const engine = info.dialect === 'sqlite' ? 'SQLite' : /durable commits/.test(info.database) ? 'PostgreSQL (durable)' : 'PostgreSQL';
  lines.push(`### ${info.mode === 'quick' ? 'Quick (smoke) run' : 'Full run'} on ${engine}${info.only ? ` — only ${info.only.join(', ')}` : ''}`);
  lines.push('');
  lines.push(`- Date: ${info.date}; took ${Math.round(info.durationMs / 1000)} s${info.waitedMs ? ` (plus ${Math.round(info.waitedMs / 1000)} s waiting for a quiet machine)` : ''}; mode: **${info.mode}**${info.mode === 'quick' ? ' (smaller sizes: a smoke test, not for sizing)' : ''}`);
  lines.push(`- Machine: ${info.cpu}, ${info.cores} cores, ${info.memory} RAM; Node ${info.node}`);
  lines.push(`- Database: ${info.database}`);
  lines.push(`- CPU speed: ${info.cpuSpeed}`);
  lines.push(`- Disk: ${info.disk}`);
  lines.push(`- Server: ${info.server}, LOG_LEVEL=${info.logLevel}, NODE_ENV=production, on 127.0.0.1; rate limits raised through RATE_LIMIT_* (the limiter still runs)`);
  lines.push(
    `- Clients run in separate processes on the same ${info.cores} cores and compete with the server for CPU; ` +
      'latencies include the clients\' own queueing. Latencies are wall-clock (performance.timeOrigin + performance.now()) differences between processes on one machine.',
  );
  lines.push(
    disturbed.length === 0
      ? '- Other processes on the machine used under 0.25 cores during every scenario.'
      : `- **Disturbed:** other processes on the machine took CPU during ${disturbed.map((r) => r.name).join('; ')} (see the notes).`,
  );
  lines.push(`- Correctness: ${failed.length === 0 ? 'every acknowledged message reached every member; no errors' : `**FAILED** in ${failed.map((r) => r.name).join('; ')}`}`);
  lines.push('');
  lines.push('| Scenario | Figure | Measured | Target | Met | Sent | Received |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const result of results) {
    if (result.figures.length === 0) {
      lines.push(`| ${cell(result.name)} | — | failed | | | ${cell(result.failures.join('; '))} | |`);
      continue;
    }
    // Within a scenario, "〃" repeats the row above (most figures come from the same traffic).
    let previous: Figure | undefined;
    for (const figure of result.figures) {
      const met = figure.target ? (figure.target.met ? 'met' : '**not met**') : '—';
      const sent = previous && previous.sent === figure.sent ? '〃' : cell(figure.sent);
      const received = previous && previous.received === figure.received ? '〃' : cell(figure.received);
      const name = previous ? '〃' : `**${cell(result.name)}**`;
      lines.push(`| ${name} | ${cell(figure.figure)} | ${cell(valueText(figure))} | ${cell(figure.target?.text ?? '')} | ${met} | ${sent} | ${received} |`);
      previous = figure;
    }
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
  const remarks = [
    ...results.flatMap((r) => r.failures.map((f) => `- **${r.name} — failure:** ${f}`)),
    ...(options.notesElsewhere === undefined ? notes : notes.length > 0 ? [`- Notes of this run (server CPU, databases, seeding): ${options.notesElsewhere}`] : []),
  ];
  if (remarks.length > 0) {
    lines.push('');
    lines.push(...remarks);
  }
  return lines.join('\n');
}

const DOC_HEADER = `# Benchmarks

Generated sections below are rewritten by \`npm run bench\`; everything else is written by hand.
`;

const HISTORY_HEADER = `# Benchmarks: history and reference

Generated sections below (the latest run of each mode and database) are rewritten by \`npm run bench\`.
`;

/** The marker pair in the main file: the latest run, whatever its mode and database. */
export const LATEST_KEY = 'latest';

/**
 * Writes one run: its whole section (notes included) under its own `key` in `historyFile`,
 * and its table without the notes under the one `latest` marker pair in `docsFile`, so the
 * main file holds one run however many kinds are run.
 */
export function writeRun(docsFile: string, historyFile: string, key: string, info: RunInfo, results: readonly ScenarioResult[]): void {
  const title = renderSection(info, results).split('\n', 1)[0]!.replace(/^#+\s*/, '');
  const link = path.relative(path.dirname(docsFile), historyFile).split(path.sep).join('/');
  writeSection(historyFile, key, renderSection(info, results), HISTORY_HEADER);
  writeSection(docsFile, LATEST_KEY, renderSection(info, results, { notesElsewhere: `[${path.basename(historyFile)}](${link}), "${title}"` }));
}

/**
 * Replaces the section between this run's markers in `file` (or appends it), keeping
 * everything else as it is.
 */
export function writeSection(file: string, key: string, section: string, header = DOC_HEADER): void {
  const start = `<!-- bench:${key}:start -->`;
  const end = `<!-- bench:${key}:end -->`;
  const block = `${start}\n${section}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from !== -1 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}
