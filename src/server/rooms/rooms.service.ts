/** Rooms and membership: the rules of who is in which room, with what role. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, Db } from '../db/schema.js';
import type { RoomsRepository } from './rooms.repository.js';

export const GENERAL_ROOM_NAME = 'General';

export function createRoomsService(deps: { db: Kysely<Database>; rooms: RoomsRepository; clock: Clock }) {
  const { rooms, clock } = deps;

  return {
    /** Adds the user to General, creating it (owned by this user) on first need. */
    async joinGeneral(trx: Db, userId: string): Promise<void> {
      const now = clock.now();
      await rooms.insertIfNameFree(trx, {
        id: randomUUID(),
        name: GENERAL_ROOM_NAME,
        name_key: GENERAL_ROOM_NAME.toLowerCase(),
        description_ciphertext: null,
        description_key_id: null,
        is_private: 0,
        owner_id: userId,
        last_seq: 0,
        created_at: now,
      });
      const general = await rooms.findByNameKey(trx, GENERAL_ROOM_NAME.toLowerCase());
      if (!general) throw new Error('General room missing right after creation');
      const role = general.owner_id === userId ? 'owner' : 'member';
      await rooms.addMember(trx, { room_id: general.id, user_id: userId, role, joined_at: now, last_read_seq: 0 });
    },
  };
}

export type RoomsService = ReturnType<typeof createRoomsService>;
