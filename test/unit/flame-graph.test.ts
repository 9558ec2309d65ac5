import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameModule, readCpuProfile } from '../../bench/lib/cpu-profile.js';
import { fitLabel, flameFrames, flameGraphSvg } from '../../bench/lib/flame-graph.js';
import { HOSTILE_NAME, handMadeProfile } from '../fixtures/cpu-profile.js';

const byLabel = (frames: ReturnType<typeof flameFrames>['frames']) => new Map(frames.map((f) => [f.label.split(' ')[0], f]));

describe('flame graph of a CPU profile', () => {
  it('makes each bar as wide as the CPU time under it, merges split nodes of one function, and leaves idle out', () => {
    const { frames, cpuMicros } = flameFrames(handMadeProfile());
    const bars = byLabel(frames);
    expect(cpuMicros).toBe(6000);
    expect(bars.has('(idle)')).toBe(false);
    expect(bars.get('all')).toMatchObject({ depth: 0, x: 0, share: 1 });
    expect(bars.get('main')).toMatchObject({ depth: 1, x: 0, micros: 4000 });
    // Two V8 nodes for `a` under `main` make one bar of 3 ms, widest first, then `b` beside it.
    expect(frames.filter((f) => f.label.startsWith('a '))).toHaveLength(1);
    expect(bars.get('a')).toMatchObject({ depth: 2, x: 0, micros: 3000, share: 0.5, kind: 'package' });
    expect(bars.get('b')).toMatchObject({ depth: 2, x: 0.5, micros: 1000, kind: 'node' });
    expect(bars.get('(garbage')).toMatchObject({ depth: 1, x: 4000 / 6000, micros: 1000, kind: 'special' });
    expect(bars.get('main')!.kind).toBe('project');
  });

  it('draws only the samples inside a window of the profile', () => {
    // Samples are stamped at 1, 2, 3 … ms; from 3.5 ms on, `a` ran only in the last sample (0 ms long).
    const bars = byLabel(flameFrames(handMadeProfile(), { from: 0.0035 }).frames);
    expect(bars.has('a')).toBe(false);
    expect(bars.get('main')!.micros).toBe(1000);
    expect(byLabel(flameFrames(handMadeProfile(), { to: 0.0025 }).frames).get('all')!.micros).toBe(2000);
  });

  it('counts a sample V8 stamped before the one ahead of it as taking no time', () => {
    const profile = handMadeProfile();
    profile.timeDeltas[3] = -5; // sample 2 (`a`, through its second node) now ends before it starts
    const { frames, cpuMicros } = flameFrames(profile);
    expect(cpuMicros).toBe(5000);
    expect(frames.every((frame) => frame.micros > 0 && frame.share > 0)).toBe(true);
    expect(byLabel(frames).get('a')!.micros).toBe(2000);
  });

  it('leaves out bars narrower than the smallest share asked for', () => {
    const labels = flameFrames(handMadeProfile(), {}, 0.2).frames.map((f) => f.label.split(' ')[0]);
    expect(labels).toEqual(['all', 'main', 'a']);
  });

  it('writes an SVG whose names are escaped, with a tooltip of time and share per bar', () => {
    const svg = flameGraphSvg(handMadeProfile(), { title: 'send <http>', minShare: 0 });
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).not.toContain(HOSTILE_NAME);
    expect(svg).toContain('&lt;evil &amp; &quot;na\uFFFDme&quot;&gt;'); // XML allows no control characters
    expect(svg).not.toMatch(/[\u0000-\u0008]/);
    expect(svg).toContain('CPU flame graph: send &lt;http&gt;');
    expect(svg).toMatch(/<g class="f" data-x="0" data-w="0\.5" data-d="2"><title>a pkg\/index\.js:5 — 3\.0 ms, 50\.0 %<\/title>/);
    expect(svg).not.toContain('(idle)');
    // Edges at full precision: the zoom compares a bar's edges with its caller's.
    expect(svg).toContain(`data-x="0.5" data-w="${1000 / 6000}" data-d="2"><title>b `);
  });

  it('says whose code each frame runs, for the summary\'s totals', () => {
    const byId = new Map(handMadeProfile().nodes.map((node) => [node.id, frameModule(node)]));
    expect(Object.fromEntries(byId)).toMatchObject({ 2: 'src/server/app.ts', 3: 'pkg', 4: 'node: internals', 6: '(garbage collector)', 7: '(native / V8 builtins)' });
    const scoped = { id: 9, callFrame: { functionName: 'unsign', url: 'file:///srv/node_modules/@fastify/cookie/signer.js', lineNumber: 0 } };
    expect(frameModule(scoped)).toBe('@fastify/cookie');
  });

  it('fits a label into its bar or shows none', () => {
    expect(fitLabel('writev :0', 200)).toBe('writev :0');
    expect(fitLabel('processImmediate node:internal/timers:438', 80)).toBe('processIm..');
    expect(fitLabel('anything', 20)).toBe('');
  });

  it('reads a real profile written by node --cpu-prof', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'securechat-cpuprof-'));
    try {
      const script = 'function spinForTheProfile() { let x = 0; const end = Date.now() + 400; while (Date.now() < end) x += Math.sqrt(x + 1); return x; } spinForTheProfile();';
      const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', script], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))!;
      const { frames, cpuMicros } = flameFrames(readCpuProfile(path.join(dir, file)));
      const spin = frames.find((f) => f.label.startsWith('spinForTheProfile'));
      expect(cpuMicros).toBeGreaterThan(300_000);
      expect(spin!.share).toBeGreaterThan(0.5);
      expect(spin!.depth).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
