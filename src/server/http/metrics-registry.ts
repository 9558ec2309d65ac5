/**
 * A small metrics registry (counters, gauges, histograms) rendered in the Prometheus text
 * exposition format 0.0.4; metrics.ts puts the server's metrics on one.
 */

export interface Counter {
  inc(by?: number): void;
}

export interface Gauge {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
}

export interface Histogram {
  observe(value: number): void;
}

export interface Registry {
  counter(name: string, help: string): Counter;
  gauge(name: string, help: string): Gauge;
  /** A gauge read when scraped; left out of the output while `read` returns undefined. */
  gaugeFn(name: string, help: string, read: () => number | undefined): void;
  histogram(name: string, help: string, buckets: readonly number[]): Histogram;
  /** Every metric in the text exposition format, ending with a newline. */
  render(): string;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A sample value as Prometheus writes it (Go's ParseFloat reads all of these). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** An empty registry; metrics are rendered in the order they were created. */
export function createRegistry(): Registry {
  const families: Array<() => string> = [];
  const names = new Set<string>();

  function declare(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', body: () => string | undefined): void {
    if (!NAME.test(name)) throw new Error(`invalid metric name: ${name}`);
    if (names.has(name)) throw new Error(`metric declared twice: ${name}`);
    names.add(name);
    families.push(() => {
      const samples = body();
      return samples === undefined ? '' : `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n${samples}`;
    });
  }

  return {
    counter(name, help) {
      let value = 0;
      declare(name, help, 'counter', () => `${name} ${formatValue(value)}\n`);
      return {
        inc(by = 1) {
          // Counters only go up: a negative step would read as a restart to rate().
          if (by > 0) value += by;
        },
      };
    },

    gauge(name, help) {
      let value = 0;
      declare(name, help, 'gauge', () => `${name} ${formatValue(value)}\n`);
      return {
        set: (next) => void (value = next),
        inc: (by = 1) => void (value += by),
        dec: (by = 1) => void (value -= by),
      };
    },

    gaugeFn(name, help, read) {
      declare(name, help, 'gauge', () => {
        const value = read();
        return value === undefined ? undefined : `${name} ${formatValue(value)}\n`;
      });
    },

    histogram(name, help, buckets) {
      const bounds = [...buckets].sort((a, b) => a - b);
      if (bounds.some((bound) => !Number.isFinite(bound))) throw new Error(`histogram ${name}: bucket bounds must be finite`);
      // counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound.
      const counts = new Array<number>(bounds.length + 1).fill(0);
      let sum = 0;
      let count = 0;
      declare(name, help, 'histogram', () => {
        let cumulative = 0;
        let text = '';
        bounds.forEach((bound, i) => {
          cumulative += counts[i]!;
          text += `${name}_bucket{le="${formatValue(bound)}"} ${cumulative}\n`;
        });
        text += `${name}_bucket{le="+Inf"} ${count}\n${name}_sum ${formatValue(sum)}\n${name}_count ${count}\n`;
        return text;
      });
      return {
        observe(value) {
          if (Number.isNaN(value)) return;
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i += 1;
          counts[i]! += 1;
          sum += value;
          count += 1;
        },
      };
    },

    render() {
      return families.map((family) => family()).join('');
    },
  };
}
