/**
 * Keyed hashes derived from a master key: blind indexes (an email's HMAC, stored so equal
 * addresses can be found without decrypting) and the names of shared rate-limit counters
 * (so none holds a username or an IP in clear).
 */
import { createHmac } from 'node:crypto';
import type { FernetKey } from './fernet.js';

// Part of the stored data format (blind indexes are persisted): changing it orphans every
// row written with it.
const BLIND_INDEX_LABEL = 'securechat blind index v1';
// Names short-lived counters only: changing it (or the primary key) just restarts them.
const COUNTER_KEY_LABEL = 'securechat counter key v1';
const COUNTER_KEY_HEX_CHARS = 32;

const hmacHex = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest('hex');

/** The blind-index function of one key: HMAC-SHA256 (hex) of an already normalised value. */
export function blindIndexUnder(key: FernetKey): (value: string) => string {
  const indexKey = key.deriveSubkey(BLIND_INDEX_LABEL);
  return (value) => hmacHex(indexKey, value);
}

/** The counter-naming function of one key: a keyed HMAC of 128 bits (hex). */
export function counterKeyUnder(key: FernetKey): (value: string) => string {
  const counterKey = key.deriveSubkey(COUNTER_KEY_LABEL);
  return (value) => hmacHex(counterKey, value).slice(0, COUNTER_KEY_HEX_CHARS);
}
