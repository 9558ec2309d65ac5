/**
 * The key of a DM's set of people: SHA-256 of the sorted, distinct member ids under a
 * label. Stored on the room with a unique index, so one set of people always lands in one
 * DM, whichever order they were named in and however many instances create it at once.
 * A plain hash, not a keyed one: the database holds the members anyway (room_members), so
 * a key would hide nothing, and a plain hash needs no re-keying when the master key rotates.
 */
import { createHash } from 'node:crypto';

// Part of the stored data format: changing it would let a set of people get a second DM.
const DM_KEY_LABEL = 'securechat dm v1';

export function dmKey(memberIds: Iterable<string>): string {
  const ids = [...new Set(memberIds)].sort();
  return createHash('sha256').update([DM_KEY_LABEL, ...ids].join('\n'), 'utf8').digest('hex');
}
