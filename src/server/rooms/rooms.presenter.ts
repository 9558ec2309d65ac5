/** What a client sees of a room. Descriptions are decrypted here, and only here. */
import type { Room } from '../../shared/protocol.js';
import type { Keyring } from '../crypto/keyring.js';
import type { RoomViewRow } from './rooms.repository.js';

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
