/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: it throws
 * on anything Prometheus would reject or that breaks the format's rules (a sample before
 * its TYPE, a family declared twice, histogram buckets that are not cumulative or do not
 * end in +Inf = _count), so a test that parses a scrape also checks the format.
 *
 *   const families = parsePrometheus(text);
 *   value(families, 'securechat_messages_sent_total');            // 3
 *   value(families, 'securechat_bus_lag_seconds_count');           // a histogram's count
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad sample value in: ${line}`);
  return Number(text);
}

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`bad labels in: ${line}`);
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (match[3] === '') break;
  }
  return labels;
}

/** The family a sample belongs to: histogram and summary samples carry suffixes. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(base);
  return family && (family.type === 'histogram' || family.type === 'summary') ? family : undefined;
}

function checkHistogram(family: Family): void {
  const buckets = family.samples.filter((s) => s.name === `${family.name}_bucket`);
  const count = family.samples.find((s) => s.name === `${family.name}_count`);
  const sum = family.samples.find((s) => s.name === `${family.name}_sum`);
  if (!count || !sum) throw new Error(`histogram ${family.name} lacks _count or _sum`);
  const bounds = buckets.map((b) => parseValue(b.labels.le ?? '', `${family.name} le`));
  for (let i = 1; i < buckets.length; i += 1) {
    if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`histogram ${family.name}: le not increasing`);
    if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`histogram ${family.name}: buckets not cumulative`);
  }
  if (bounds.at(-1) !== Infinity) throw new Error(`histogram ${family.name}: no +Inf bucket`);
  if (buckets.at(-1)!.value !== count.value) throw new Error(`histogram ${family.name}: +Inf bucket differs from _count`);
}

/** Parses a scrape; throws with the offending line when it is not valid exposition text. */
export function parsePrometheus(text: string): Map<string, Family> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition text must end with a newline');
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    const help = HELP_LINE.exec(line);
    if (help) {
      helps.set(help[1]!, help[2]!);
      continue;
    }
    const type = TYPE_LINE.exec(line);
    if (type) {
      if (families.has(type[1]!)) throw new Error(`family declared twice: ${type[1]}`);
      families.set(type[1]!, { name: type[1]!, type: type[2] as Family['type'], help: helps.get(type[1]!), samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue; // other comments are allowed
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const family = familyOf(sample[1]!, families);
    if (!family) throw new Error(`sample before its TYPE line: ${line}`);
    family.samples.push({ name: sample[1]!, labels: parseLabels(sample[2], line), value: parseValue(sample[3]!, line) });
  }
  for (const family of families.values()) {
    if (family.samples.length === 0) throw new Error(`family without samples: ${family.name}`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

/** The value of the one sample with this name (and labels); throws when there is none. */
export function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value;
    }
  }
  throw new Error(`no sample ${name}${JSON.stringify(labels)} in the scrape`);
}
