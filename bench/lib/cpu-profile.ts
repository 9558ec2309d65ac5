/**
 * Reading a V8 CPU profile (`node --cpu-prof`): the call tree and how long each of its
 * nodes was on top of the stack. Shared by the text summary and the flame graph.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Seconds into the profile; samples outside [from, to) are left out. */
export interface ProfileWindow {
  from?: number;
  to?: number;
}

/** V8's bookkeeping frames, which have no source. */
export const SPECIAL_FRAMES = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export function readCpuProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** Microseconds each node was on top of the stack, counting only samples inside the window. */
export function selfTimes(profile: CpuProfile, window: ProfileWindow = {}): Map<number, number> {
  const fromUs = (window.from ?? 0) * 1e6;
  const toUs = (window.to ?? Infinity) * 1e6;
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the time after it (the next delta) is its
  // duration. V8 now and then stamps a sample a few µs before the one ahead of it: that
  // negative gap counts as none.
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at >= toUs) continue;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i + 1] ?? 0));
  }
  return self;
}

/** Microseconds of wall time the window covers. */
export function windowMicros(profile: CpuProfile, window: ProfileWindow = {}): number {
  const fromUs = (window.from ?? 0) * 1e6;
  const toUs = (window.to ?? Infinity) * 1e6;
  return Math.max(0, Math.min(profile.endTime - profile.startTime, toUs) - fromUs);
}

/** A script's URL made short: the path inside its package, or inside the project. */
export function shortUrl(url: string): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('node_modules/');
  if (modules !== -1) return clean.slice(modules + 'node_modules/'.length);
  const src = clean.indexOf('/src/');
  if (src !== -1) return clean.slice(src + 1);
  return clean.startsWith('node:') ? clean : path.basename(clean);
}

export type FrameKind = 'special' | 'native' | 'package' | 'node' | 'project';

/** Where a frame's code comes from; the flame graph colours by it. */
export function frameKind(node: ProfileNode): FrameKind {
  const { functionName, url } = node.callFrame;
  if (SPECIAL_FRAMES.has(functionName)) return 'special';
  if (!url) return 'native';
  if (url.includes('node_modules/')) return 'package';
  if (url.startsWith('node:')) return 'node';
  return 'project';
}

/** Whose code a frame runs, for totals: an npm package's name, one of our files, Node's internals, or V8. */
export function frameModule(node: ProfileNode): string {
  switch (frameKind(node)) {
    case 'special':
      return node.callFrame.functionName;
    case 'native':
      return '(native / V8 builtins)';
    case 'node':
      return 'node: internals';
    case 'package': {
      const [scopeOrName, name] = shortUrl(node.callFrame.url).split('/');
      return scopeOrName?.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName!;
    }
    case 'project':
      return shortUrl(node.callFrame.url);
  }
}

/** A frame's name with where it is: `send src/server/messages/messages.service.ts:1`. */
export function frameLabel(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (SPECIAL_FRAMES.has(functionName)) return functionName;
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}
