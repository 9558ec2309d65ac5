import { describe, expect, it } from 'vitest';
import { addressBlock } from '../../src/server/http/client-address.js';

describe('addressBlock', () => {
  it('keeps an IPv4 address, and turns an IPv4-mapped IPv6 address into it', () => {
    expect(addressBlock('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBlock('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBlock('::ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it('counts IPv4 carried in IPv6 (compatible, NAT64) as that IPv4 client, not as one shared /64', () => {
    expect(addressBlock('::203.0.113.7')).toBe('203.0.113.7');
    expect(addressBlock('64:ff9b::203.0.113.7')).toBe('203.0.113.7');
    expect(addressBlock('64:ff9b::198.51.100.1')).toBe('198.51.100.1');
    expect(addressBlock('::')).toBe('0:0:0:0::/64');
  });

  it('counts by a wider block when asked', () => {
    expect(addressBlock('2001:db8:7:1::1', 48)).toBe('2001:db8:7::/48');
    expect(addressBlock('2001:db8:7:ffff::1', 48)).toBe('2001:db8:7::/48');
    expect(addressBlock('203.0.113.7', 48)).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const block = '2001:db8:0:1::/64';
    for (const address of ['2001:db8:0:1::1', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:DB8:0:1:a:b:c:d', '2001:db8::1:0:0:0:5', '2001:db8:0:1::9%eth0']) {
      expect(addressBlock(address)).toBe(block);
    }
    expect(addressBlock('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64');
    expect(addressBlock('::1')).toBe('0:0:0:0::/64');
  });
});
