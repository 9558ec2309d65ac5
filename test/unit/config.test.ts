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

describe('loadConfig: TRUST_PROXY', () => {
  it('is off by default; true is one proxy; a number counts proxies; a list names them', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.2, 192.168.0.0/16, ::1, fd00::/8, loopback' }).trustProxy).toEqual([
      '10.0.0.2',
      '192.168.0.0/16',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
  });

  it('refuses anything else, naming the variable', () => {
    for (const raw of ['banana', '10.0.0.0/33', '11', '10.0.0.1, nginx', '1.2.3']) {
      expect(() => loadConfig({ TRUST_PROXY: raw })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: raw })).toThrow(/^TRUST_PROXY must be false, the number of proxies/);
    }
  });
});

describe('loadConfig: production', () => {
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), MASTER_KEY_FILE: '/etc/securechat/master.key' };

  it('requires PUBLIC_URL, which redirects and invite links are built from', () => {
    expect(() => loadConfig(production)).toThrow('PUBLIC_URL is required when NODE_ENV=production');
    expect(loadConfig({ ...production, PUBLIC_URL: 'https://chat.example.com/' }).publicUrl).toBe('https://chat.example.com');
  });

  it('is not the default: npm start on a fresh machine needs no setting', () => {
    expect(loadConfig({}).production).toBe(false);
  });
});

describe('loadConfig: request deadlines and the connection cap', () => {
  it('has defaults, and refuses a header deadline longer than the request deadline', () => {
    expect(loadConfig({})).toMatchObject({ requestTimeoutSeconds: 30, headersTimeoutSeconds: 15, maxConnections: 20_000 });
    expect(loadConfig({ REQUEST_TIMEOUT_SECONDS: '5' })).toMatchObject({ requestTimeoutSeconds: 5, headersTimeoutSeconds: 5 });
    expect(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: '5', HEADERS_TIMEOUT_SECONDS: '6' })).toThrow(/HEADERS_TIMEOUT_SECONDS \(6\) may not be more than REQUEST_TIMEOUT_SECONDS \(5\)/);
    expect(() => loadConfig({ MAX_CONNECTIONS: '0' })).toThrow('MAX_CONNECTIONS must be a whole number from 1 to 1000000');
  });
});
