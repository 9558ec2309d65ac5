/**
 * Summarises a V8 CPU profile (from `npm run bench -- --profile <dir>`, i.e. node
 * --cpu-prof on the server): where the server's time went, by function (self time), by
 * package or source file, and — for the project's own functions — inclusive time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('node_modules/');
  if (modules !== -1) return clean.slice(modules + 'node_modules/'.length);
  const src = clean.indexOf('/src/');
  if (src !== -1) return clean.slice(src + 1);
  return clean.startsWith('node:') ? clean : path.basename(clean);
}

/** Where a frame belongs: an npm package, one of our source files, Node's internals, or V8's bookkeeping. */
function moduleOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native / V8 builtins)';
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const rest = clean.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? clean);
  }
  if (clean.startsWith('node:')) return 'node: internals';
  const src = clean.indexOf('/src/');
  return src !== -1 ? clean.slice(src + 1) : clean;
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (SPECIAL.has(functionName)) return functionName;
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

function table(title: string, rows: Array<[string, number]>, total: number, top: number): string {
  const lines = [`${title}`, ''];
  for (const [name, us] of rows.slice(0, top)) {
    lines.push(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
  return lines.join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const file = positionals[0];
  if (!file) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25]');
    process.exit(2);
  }
  const top = Number(values.top);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the time after it (the next delta) is its duration.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const duration = profile.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + duration);
  }

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
    selfByKey.set(keyOf(node), (selfByKey.get(keyOf(node)) ?? 0) + us);
    selfByModule.set(moduleOf(node), (selfByModule.get(moduleOf(node)) ?? 0) + us);
    // Inclusive time of our own functions: every distinct src/ frame on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      if (!frame.callFrame.url.includes('/src/') || frame.callFrame.url.includes('node_modules')) continue;
      const key = keyOf(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveOwn.set(key, (inclusiveOwn.get(key) ?? 0) + us);
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  const wall = profile.endTime - profile.startTime;
  console.log(`${file}: ${(wall / 1e6).toFixed(1)} s profiled, ${(total / 1e6).toFixed(1)} s on the CPU (main thread), ${(idle / 1e6).toFixed(1)} s idle`);
  console.log(`percentages are of the ${(total / 1e6).toFixed(1)} s on the CPU\n`);
  console.log(table('Self time by function', sorted(selfByKey), total, top));
  console.log('');
  console.log(table('Self time by package / source file', sorted(selfByModule), total, top));
  console.log('');
  console.log(table('Inclusive time of the project\'s own functions (src/)', sorted(inclusiveOwn), total, top));
}

main();
