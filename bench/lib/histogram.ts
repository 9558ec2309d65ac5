/**
 * A mergeable latency histogram: log-spaced buckets 1 % wide from 1 µs up, so p50/p99
 * are within 1 % of the true value and worker processes can send theirs to the runner
 * as a small sparse object instead of every sample.
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_MS = 0.001;

export interface HistogramData {
  /** bucket index → count (sparse) */
  buckets: Record<string, number>;
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  sumMs = 0;
  minMs = Number.POSITIVE_INFINITY;
  maxMs = 0;

  /** Records one duration in milliseconds (negative values, from clock noise, count as 0). */
  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    const index = value <= MIN_MS ? 0 : Math.ceil(Math.log(value / MIN_MS) / LOG_GROWTH);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.count += 1;
    this.sumMs += value;
    if (value < this.minMs) this.minMs = value;
    if (value > this.maxMs) this.maxMs = value;
  }

  merge(other: Histogram | HistogramData): this {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [key, count] of Object.entries(data.buckets)) {
      const index = Number(key);
      this.buckets.set(index, (this.buckets.get(index) ?? 0) + count);
    }
    this.count += data.count;
    this.sumMs += data.sumMs;
    if (data.count > 0) {
      this.minMs = Math.min(this.minMs, data.minMs);
      this.maxMs = Math.max(this.maxMs, data.maxMs);
    }
    return this;
  }

  /** The value at quantile q (0..1), in ms; the bucket's upper bound, capped at the true max. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    const indexes = [...this.buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const index of indexes) {
      seen += this.buckets.get(index) ?? 0;
      if (seen >= rank) return Math.min(this.maxMs, Math.max(this.minMs, MIN_MS * GROWTH ** index));
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: round(this.quantile(0.5)),
      p90: round(this.quantile(0.9)),
      p99: round(this.quantile(0.99)),
      max: round(this.count ? this.maxMs : Number.NaN),
      mean: round(this.count ? this.sumMs / this.count : Number.NaN),
    };
  }

  toJSON(): HistogramData {
    return {
      buckets: Object.fromEntries(this.buckets),
      count: this.count,
      sumMs: this.sumMs,
      minMs: this.count ? this.minMs : 0,
      maxMs: this.maxMs,
    };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function round(ms: number): number {
  if (!Number.isFinite(ms)) return ms;
  return ms >= 100 ? Math.round(ms) : Math.round(ms * 1000) / 1000;
}
