/**
 * The unit per-address budgets count by. An IPv4 address is one client; an IPv6 host is
 * usually given a whole /64, so counting its addresses one by one would let a single host
 * spread guesses over 2^64 "clients". IPv6 addresses therefore count by their /64 (or by
 * a wider block where a budget asks for it). IPv4 carried in IPv6 (mapped, compatible, or
 * NAT64's 64:ff9b::/96) counts as that IPv4 client.
 */
import { isIPv6 } from 'node:net';

/** Expands an IPv6 address to its eight groups (an embedded IPv4 tail becomes two groups). */
function groupsOf(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((group) => Number.parseInt(group, 16));
}

/** Whether the first 96 bits are a prefix that carries an IPv4 address in the last 32. */
function carriesIPv4(groups: number[]): boolean {
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  // The deprecated ::a.b.c.d form; ::1 and :: stay IPv6 (their IPv4 would start with 0).
  const compatible = zeros(0, 6) && groups[6] !== 0;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  return mapped || compatible || nat64;
}

/** `1.2.3.4` for IPv4 (and IPv4 carried in IPv6), `2001:db8:0:1::/64` for other IPv6 (prefix 16–128, by 16). */
export function addressBlock(address: string, prefix: 16 | 32 | 48 | 64 = 64): string {
  if (!isIPv6(address)) return address;
  const groups = groupsOf(address);
  if (carriesIPv4(groups)) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, prefix / 16).map((group) => group.toString(16)).join(':')}::/${prefix}`;
}
