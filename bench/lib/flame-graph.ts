/**
 * A CPU profile drawn as a flame graph, in one self-contained SVG (no assets to fetch: it
 * opens from disk in any browser). Each bar is a function on the stack: its width is the
 * CPU time spent in it and in what it called, its callers are below it. Stacks that end
 * in the same functions are merged, as V8 sometimes splits one function over several
 * nodes. Idle time is left out; a click on a bar zooms into it, a click on the bottom
 * bar zooms out.
 */
import { frameKind, frameLabel, selfTimes, windowMicros, type CpuProfile, type FrameKind, type ProfileWindow } from './cpu-profile.js';

export interface FlameGraphOptions {
  title: string;
  window?: ProfileWindow;
  /** Bars narrower than this share of the CPU time are left out, with everything they called. */
  minShare?: number;
  /** Width of the drawing in pixels. */
  width?: number;
}

/** One bar: a stack of calls, merged over every sample that had it. */
export interface FlameFrame {
  label: string;
  kind: FrameKind;
  /** Microseconds with this stack, or one that grew from it. */
  micros: number;
  /** Where the bar starts and how wide it is, as shares of the whole CPU time. */
  x: number;
  share: number;
  depth: number;
}

interface StackNode {
  label: string;
  kind: FrameKind;
  micros: number;
  children: Map<string, StackNode>;
}

const ROW_PX = 17;
const TOP_PX = 66;
const SIDE_PX = 10;
/** Width of one character of 11 px monospace, for fitting labels into bars. */
const CHAR_PX = 6.7;

/** The merged call tree of a profile's busy samples, laid out as bars, widest first from the bottom. */
export function flameFrames(profile: CpuProfile, window: ProfileWindow = {}, minShare = 0): { frames: FlameFrame[]; cpuMicros: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const root: StackNode = { label: 'all', kind: 'special', micros: 0, children: new Map() };
  for (const [id, micros] of selfTimes(profile, window)) {
    const stack = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    if (micros === 0 || stack.some((node) => node.callFrame.functionName === '(idle)')) continue;
    root.micros += micros;
    let into = root;
    // The stack runs from the sampled frame down to V8's (root); walk it the other way.
    for (let i = stack.length - 1; i >= 0; i--) {
      const node = stack[i]!;
      if (node.callFrame.functionName === '(root)') continue;
      const label = frameLabel(node);
      let next = into.children.get(label);
      if (!next) {
        next = { label, kind: frameKind(node), micros: 0, children: new Map() };
        into.children.set(label, next);
      }
      next.micros += micros;
      into = next;
    }
  }

  const frames: FlameFrame[] = [];
  if (root.micros === 0) return { frames, cpuMicros: 0 };
  const visit = (node: StackNode, x: number, depth: number) => {
    const share = node.micros / root.micros;
    if (share < minShare) return;
    frames.push({ label: node.label, kind: node.kind, micros: node.micros, x, share, depth });
    let childX = x;
    for (const child of [...node.children.values()].sort((a, b) => b.micros - a.micros)) {
      visit(child, childX, depth + 1);
      childX += child.micros / root.micros;
    }
  };
  visit(root, 0, 0);
  return { frames, cpuMicros: root.micros };
}

/** The flame graph of a profile (or of a window of it) as an SVG document. */
export function flameGraphSvg(profile: CpuProfile, options: FlameGraphOptions): string {
  const width = options.width ?? 1200;
  const minShare = options.minShare ?? 0.001;
  const { frames, cpuMicros } = flameFrames(profile, options.window, minShare);
  const depth = frames.reduce((deepest, frame) => Math.max(deepest, frame.depth), 0);
  const height = TOP_PX + (depth + 1) * ROW_PX + SIDE_PX;
  const plot = width - 2 * SIDE_PX;
  const wall = windowMicros(profile, options.window);
  const bars = frames.map((frame) => {
    const x = SIDE_PX + frame.x * plot;
    const w = frame.share * plot;
    const y = height - SIDE_PX - (frame.depth + 1) * ROW_PX;
    const tip = `${frame.label} — ${(frame.micros / 1000).toFixed(1)} ms, ${(100 * frame.share).toFixed(1)} %`;
    return (
      // Full precision: the zoom compares edges, and rounded ones of a bar and its caller disagree.
      `<g class="f" data-x="${frame.x}" data-w="${frame.share}" data-d="${frame.depth}">` +
      `<title>${escapeXml(tip)}</title>` +
      `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(w - 0.5, 0.5).toFixed(1)}" height="${ROW_PX - 1}" rx="2" fill="${colour(frame)}"/>` +
      `<text x="${(x + 3).toFixed(1)}" y="${y + 12}">${escapeXml(fitLabel(frame.label, w))}</text></g>`
    );
  });
  const legend = (Object.entries(KIND_NAMES) as Array<[FrameKind, string]>).map(([kind, name], i) => {
    const x = SIDE_PX + i * 150;
    return `<rect x="${x}" y="44" width="10" height="10" fill="${colour({ kind, label: '' })}"/><text x="${x + 14}" y="53">${name}</text>`;
  });
  const summary =
    `${(cpuMicros / 1e6).toFixed(2)} s on the CPU in ${(wall / 1e6).toFixed(2)} s profiled (one thread); ` +
    `bars under ${(100 * minShare).toFixed(1)} % are left out; click a bar to zoom in, the bottom bar to zoom out`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    `<style>.f{cursor:pointer}.f:hover rect{stroke:#222;stroke-width:.6}text{pointer-events:none}</style>`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    `<text x="${SIDE_PX}" y="18" font-size="14">CPU flame graph: ${escapeXml(options.title)}</text>`,
    `<text x="${SIDE_PX}" y="36" fill="#555">${escapeXml(summary)}</text>`,
    ...legend,
    `<g id="frames">`,
    ...bars,
    `</g>`,
    `<script><![CDATA[${zoomScript(plot)}]]></script>`,
    `</svg>`,
    '',
  ].join('\n');
}

const KIND_NAMES: Record<FrameKind, string> = {
  project: 'SecureChat (src/)',
  package: 'npm packages',
  node: 'Node.js internals',
  native: 'V8 / native',
  special: 'GC, program, all',
};

/** Warm colours for JavaScript, cool for the runtime; a hash of the name varies the shade so neighbours differ. */
function colour(frame: Pick<FlameFrame, 'kind' | 'label'>): string {
  let hash = 0;
  for (let i = 0; i < frame.label.length; i++) hash = (Math.imul(hash, 31) + frame.label.charCodeAt(i)) >>> 0;
  const shade = (hash % 1000) / 1000;
  switch (frame.kind) {
    case 'project':
      return `hsl(${Math.round(14 + 22 * shade)},85%,${Math.round(56 + 8 * shade)}%)`;
    case 'package':
      return `hsl(${Math.round(44 + 14 * shade)},80%,${Math.round(55 + 8 * shade)}%)`;
    case 'node':
      return `hsl(${Math.round(190 + 25 * shade)},55%,${Math.round(64 + 8 * shade)}%)`;
    case 'native':
      return `hsl(0,0%,${Math.round(70 + 12 * shade)}%)`;
    case 'special':
      return frame.label === '(garbage collector)' ? 'hsl(0,70%,62%)' : 'hsl(0,0%,84%)';
  }
}

/** As much of the label as fits in a bar `px` wide, or nothing when too little would. */
export function fitLabel(label: string, px: number): string {
  const chars = Math.floor((px - 5) / CHAR_PX);
  if (chars < 4) return '';
  return label.length <= chars ? label : `${label.slice(0, chars - 2)}..`;
}

/** Text safe in an SVG: markup escaped, and characters XML forbids (control characters in a function's name) replaced. */
function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Runs in the browser: re-lays the bars out around the clicked one. */
function zoomScript(plotPx: number): string {
  return `
const PLOT = ${plotPx}, SIDE = ${SIDE_PX}, CHAR = ${CHAR_PX};
const bars = Array.from(document.querySelectorAll('.f'));
function fit(label, px) { // as fitLabel does on the server
  const chars = Math.floor((px - 5) / CHAR);
  return chars < 4 ? '' : label.length <= chars ? label : label.slice(0, chars - 2) + '..';
}
function place(g, x, w) {
  const rect = g.querySelector('rect'), text = g.querySelector('text');
  const label = g.querySelector('title').textContent.split(' — ')[0];
  rect.setAttribute('x', (SIDE + x * PLOT).toFixed(1));
  rect.setAttribute('width', Math.max(w * PLOT - 0.5, 0.5).toFixed(1));
  text.setAttribute('x', (SIDE + x * PLOT + 3).toFixed(1));
  text.textContent = fit(label, w * PLOT);
  g.style.display = '';
}
function zoom(target) {
  const zx = +target.dataset.x, zw = +target.dataset.w, zd = +target.dataset.d, eps = 1e-9;
  for (const g of bars) {
    const x = +g.dataset.x, w = +g.dataset.w, d = +g.dataset.d;
    if (d < zd) {
      if (x <= zx + eps && x + w >= zx + zw - eps) place(g, 0, 1); else g.style.display = 'none';
    } else if (x >= zx - eps && x + w <= zx + zw + eps) place(g, (x - zx) / zw, w / zw);
    else g.style.display = 'none';
  }
}
for (const g of bars) g.addEventListener('click', () => zoom(g));
`;
}
