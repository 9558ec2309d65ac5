/** What a client sees of a room and its members. Descriptions are decrypted here, and only here. */
import { dmName } from '../../shared/dm.js';
import type { DmMember, Member, Room } from '../../shared/protocol.js';
import { isoTime } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import type { MemberWithUserRow, RoomViewRow } from './rooms.repository.js';

/** A DM's people and who is looking: a DM is named by the others (shared/dm.ts). */
export interface DmView {
  members: DmMember[];
  viewerId: string;
}

export function presentRoom(row: RoomViewRow, keyring: Keyring, dm?: DmView): Room {
  const isDm = row.kind === 'dm';
  return {
    id: row.id,
    name: isDm && dm ? dmName(dm.members, dm.viewerId) : row.name,
    kind: isDm ? 'dm' : 'room',
    description: row.description_ciphertext ? keyring.decrypt(row.description_ciphertext, row.description_key_id ?? undefined) : '',
    isPrivate: row.is_private === 1,
    role: row.role,
    lastSeq: Number(row.last_seq),
    memberCount: Number(row.member_count),
    ...(row.role !== null && row.last_read_seq !== null ? { lastReadSeq: Number(row.last_read_seq) } : {}),
    ...(isDm && dm ? { dmMembers: dm.members } : {}),
  };
}

export function presentMember(row: MemberWithUserRow, online: boolean): Member {
  return { user: { id: row.user_id, username: row.username, createdAt: isoTime(row.user_created_at) }, role: row.role, online };
}
