/**
 * The unit per-address budgets count by. An IPv4 address is one client; an IPv6 host is
 * usually given a whole /64, so counting its addresses one by one would let a single host
 * spread guesses over 2^64 "clients". IPv6 addresses therefore count by their /64.
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

/** `1.2.3.4` for IPv4 (and IPv4-mapped IPv6), `2001:db8:0:1::/64` for any other IPv6 address. */
export function addressBlock(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = groupsOf(address);
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}
