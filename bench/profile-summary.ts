/**
 * Summarises a V8 CPU profile (from `npm run bench -- --profile <dir>`, i.e. node
 * --cpu-prof on the server): where the server's time went, by function (self time), by
 * package or source file, and — for the project's own functions — inclusive time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--from <s>] [--to <s>] [--flame <out.svg>]
 *
 * --from/--to keep the samples between those seconds into the profile: one server serves
 * several cases of a scenario (HTTP sends, then WebSocket sends), so a window reads one.
 * --flame also writes the same samples as a flame graph (bench/lib/flame-graph.ts).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameLabel, frameModule, readCpuProfile, selfTimes, windowMicros } from './lib/cpu-profile.js';
import { flameGraphSvg } from './lib/flame-graph.js';

function table(title: string, rows: Array<[string, number]>, total: number, top: number): string {
  const lines = [`${title}`, ''];
  for (const [name, us] of rows.slice(0, top)) {
    lines.push(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
  return lines.join('\n');
}

const USAGE = 'usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--from <s>] [--to <s>] [--flame <out.svg>]';

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      from: { type: 'string' },
      to: { type: 'string' },
      flame: { type: 'string' },
    },
  });
  const file = positionals[0];
  const window = { from: values.from === undefined ? undefined : Number(values.from), to: values.to === undefined ? undefined : Number(values.to) };
  if (!file || Number.isNaN(window.from) || Number.isNaN(window.to)) {
    console.error(USAGE);
    process.exit(2);
  }
  const top = Number(values.top);
  const profile = readCpuProfile(file);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = selfTimes(profile, window);

  const selfByKey = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    selfByKey.set(frameLabel(node), (selfByKey.get(frameLabel(node)) ?? 0) + us);
    selfByModule.set(frameModule(node), (selfByModule.get(frameModule(node)) ?? 0) + us);
    // Inclusive time of our own functions: every distinct src/ frame on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      if (!frame.callFrame.url.includes('/src/') || frame.callFrame.url.includes('node_modules')) continue;
      const key = frameLabel(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveOwn.set(key, (inclusiveOwn.get(key) ?? 0) + us);
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  const wall = windowMicros(profile, window);
  console.log(`${file}: ${(wall / 1e6).toFixed(1)} s profiled, ${(total / 1e6).toFixed(1)} s on the CPU (main thread), ${(idle / 1e6).toFixed(1)} s idle`);
  console.log(`percentages are of the ${(total / 1e6).toFixed(1)} s on the CPU\n`);
  console.log(table('Self time by function', sorted(selfByKey), total, top));
  console.log('');
  console.log(table('Self time by package / source file', sorted(selfByModule), total, top));
  console.log('');
  console.log(table('Inclusive time of the project\'s own functions (src/)', sorted(inclusiveOwn), total, top));
  if (values.flame) {
    writeFileSync(values.flame, flameGraphSvg(profile, { title: file, window }));
    console.log(`\nflame graph: ${values.flame}`);
  }
}

// `… | head` closes the pipe early; that ends the summary, it is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});
main();
