import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.js';

describe('loadConfig: MESSAGE_CACHE_MB', () => {
  it('is 32 when unset, and 0 turns the cache off', () => {
    expect(loadConfig({}).messageCacheMb).toBe(32);
    expect(loadConfig({ MESSAGE_CACHE_MB: '0' }).messageCacheMb).toBe(0);
    expect(loadConfig({ MESSAGE_CACHE_MB: '256' }).messageCacheMb).toBe(256);
  });

  it('refuses what is not a whole number from 0 to 1024, naming the variable', () => {
    for (const raw of ['-1', '1.5', 'lots', '1025']) {
      expect(() => loadConfig({ MESSAGE_CACHE_MB: raw })).toThrow(ConfigError);
      expect(() => loadConfig({ MESSAGE_CACHE_MB: raw })).toThrow(`MESSAGE_CACHE_MB must be a whole number from 0 to 1024 (got "${raw}").`);
    }
  });
});
