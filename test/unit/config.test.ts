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

describe('loadConfig: the sign-in failure budgets', () => {
  it('are 5 per account and IP and 50 per account when unset, and read from the environment', () => {
    expect(loadConfig({}).rateLimits).toMatchObject({ signInFailuresPerAddress: 5, signInFailuresPerAccount: 50 });
    const set = loadConfig({ RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '3', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '30' });
    expect(set.rateLimits).toMatchObject({ signInFailuresPerAddress: 3, signInFailuresPerAccount: 30 });
  });

  it('refuses zero, naming the variable', () => {
    expect(() => loadConfig({ RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '0' })).toThrow('RATE_LIMIT_SIGN_IN_FAILURES_PER_IP must be a whole number from 1 to 1000000 (got "0").');
    expect(() => loadConfig({ RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '0' })).toThrow(ConfigError);
  });
});

describe('loadConfig: MAX_SOCKETS_PER_USER', () => {
  it('is 20 when unset', () => {
    expect(loadConfig({}).maxSocketsPerUser).toBe(20);
    expect(loadConfig({ MAX_SOCKETS_PER_USER: '5' }).maxSocketsPerUser).toBe(5);
  });

  it('refuses what is not a whole number from 1 to 10000, naming the variable', () => {
    for (const raw of ['0', '-1', '10001', '2.5', 'many']) {
      expect(() => loadConfig({ MAX_SOCKETS_PER_USER: raw })).toThrow(`MAX_SOCKETS_PER_USER must be a whole number from 1 to 10000 (got "${raw}").`);
    }
  });
});
