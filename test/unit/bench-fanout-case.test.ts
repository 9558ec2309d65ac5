/** `npm run bench -- --fanout <case>`: a case of the full sweep by its name, and a clear refusal of any other. */
import { describe, expect, it } from 'vitest';
import { fanoutCaseNamed } from '../../bench/scenarios/fanout.js';

describe('--fanout', () => {
  it('picks the full sweep\'s case it names: clients x room size @ offered deliveries/s', () => {
    expect(fanoutCaseNamed('1000x10@55000')).toMatchObject({ clients: 1_000, roomSize: 10, messagesPerSec: 5_500, durationMs: 10_000 });
    expect(fanoutCaseNamed(' 100x100@10000 ')).toMatchObject({ clients: 100, roomSize: 100, messagesPerSec: 100 });
  });

  it('refuses any other name, listing the eight it takes', () => {
    for (const bad of ['1000x10@5000', '1000x10', 'all', '']) {
      expect(() => fanoutCaseNamed(bad)).toThrow(/^--fanout names one case of the full sweep: 100x10@10000, 100x10@55000, .*1000x100@55000 \(got/);
    }
  });
});
