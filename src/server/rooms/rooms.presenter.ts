/** What a client sees of a room and its members. Descriptions are decrypted here, and only here. */
import type { Member, Room } from '../../shared/protocol.js';
import { isoTime } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import type { MemberWithUserRow, RoomViewRow } from './rooms.repository.js';

export function presentRoom(row: RoomViewRow, keyring: Keyring): Room {
  return {
    id: row.id,
    name: row.name,
    description: row.description_ciphertext ? keyring.decrypt(row.description_ciphertext, row.description_key_id ?? undefined) : '',
    isPrivate: row.is_private === 1,
    role: row.role,
    lastSeq: Number(row.last_seq),
    memberCount: Number(row.member_count),
    ...(row.role !== null && row.last_read_seq !== null ? { lastReadSeq: Number(row.last_read_seq) } : {}),
  };
}

export function presentMember(row: MemberWithUserRow, online: boolean): Member {
  return { user: { id: row.user_id, username: row.username, createdAt: isoTime(row.user_created_at) }, role: row.role, online };
}
