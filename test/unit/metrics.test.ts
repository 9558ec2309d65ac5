/** The Prometheus text the metrics registry writes: what Prometheus expects, and nothing else. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/server/http/metrics.js';
import { createRegistry, formatValue } from '../../src/server/http/metrics-registry.js';
import { parsePrometheus, value } from '../support/prometheus.js';

describe('the metrics registry', () => {
  it('writes HELP and TYPE before each family, escaping the help text', () => {
    const registry = createRegistry();
    registry.counter('jobs_total', 'Jobs done.\nOne line: back\\slash').inc(2);
    registry.gauge('queue_depth', 'Queued.').set(5);
    expect(registry.render()).toBe(
      '# HELP jobs_total Jobs done.\\nOne line: back\\\\slash\n# TYPE jobs_total counter\njobs_total 2\n' +
        '# HELP queue_depth Queued.\n# TYPE queue_depth gauge\nqueue_depth 5\n',
    );
  });

  it('keeps counters from going down, and leaves out a gauge that has nothing to say', () => {
    const registry = createRegistry();
    const counter = registry.counter('c_total', 'c');
    counter.inc();
    counter.inc(-5);
    let reading: number | undefined;
    registry.gaugeFn('maybe', 'read at scrape time', () => reading);
    expect(registry.render()).not.toContain('maybe');
    reading = 7;
    const families = parsePrometheus(registry.render());
    expect(value(families, 'c_total')).toBe(1);
    expect(value(families, 'maybe')).toBe(7);
  });

  it('counts an observation equal to a bound in that bucket, and keeps buckets cumulative up to +Inf', () => {
    const registry = createRegistry();
    const histogram = registry.histogram('latency_seconds', 'Latency.', [0.1, 1, 0.5]);
    for (const seconds of [0.05, 0.1, 0.3, 0.5, 7]) histogram.observe(seconds);
    const text = registry.render();
    expect(text).toContain('latency_seconds_bucket{le="0.1"} 2\nlatency_seconds_bucket{le="0.5"} 4\nlatency_seconds_bucket{le="1"} 4\n');
    expect(text).toContain('latency_seconds_bucket{le="+Inf"} 5\nlatency_seconds_sum 7.95\nlatency_seconds_count 5\n');
    expect(() => parsePrometheus(text)).not.toThrow();
  });

  it('refuses names Prometheus would not accept, and a name declared twice', () => {
    const registry = createRegistry();
    expect(() => registry.counter('has-dash', 'x')).toThrow(/invalid metric name/);
    registry.gauge('once', 'x');
    expect(() => registry.gauge('once', 'x')).toThrow(/declared twice/);
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(NaN)).toBe('NaN');
  });

  it('measures delivery and bus lag from the publish stamp, never below zero when clocks disagree', () => {
    let now = 10_000;
    const metrics = createMetrics({ now: () => now });
    metrics.messageDelivered(3, 9_990);
    metrics.messageDelivered(0, 1); // no local recipient: nothing delivered, nothing observed
    metrics.busReceived(now + 250); // the publisher's clock is ahead of ours
    now += 1;
    const families = parsePrometheus(metrics.render());
    expect(value(families, 'securechat_messages_delivered_total')).toBe(3);
    expect(value(families, 'securechat_message_delivery_seconds_count')).toBe(1);
    expect(value(families, 'securechat_message_delivery_seconds_sum')).toBeCloseTo(0.01);
    expect(value(families, 'securechat_bus_lag_seconds_bucket', { le: '0.001' })).toBe(1);
    expect(value(families, 'securechat_bus_lag_seconds_sum')).toBe(0);
  });
});
