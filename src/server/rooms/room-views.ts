/**
 * Rooms as a viewer sees them, DMs with their people (named by the others): one query for
 * the people of every DM in the list, none when it holds no DM.
 */
import type { Kysely } from 'kysely';
import type { Room, UserRef } from '../../shared/protocol.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import type { DmsRepository } from './dms.repository.js';
import { presentRoom } from './rooms.presenter.js';
import type { RoomViewRow } from './rooms.repository.js';

export function createRoomViews(deps: { db: Kysely<Database>; dms: DmsRepository; keyring: Keyring }) {
  const { db, dms, keyring } = deps;
  return {
    async present(rows: readonly RoomViewRow[], viewerId: string): Promise<Room[]> {
      const dmIds = rows.filter((row) => row.kind === 'dm').map((row) => row.id);
      const people = new Map<string, UserRef[]>();
      for (const member of await dms.membersOf(db, dmIds)) {
        let list = people.get(member.room_id);
        if (!list) people.set(member.room_id, (list = []));
        list.push({ id: member.id, username: member.username });
      }
      return rows.map((row) => presentRoom(row, keyring, row.kind === 'dm' ? { members: people.get(row.id) ?? [], viewerId } : undefined));
    },

    async presentOne(row: RoomViewRow, viewerId: string): Promise<Room> {
      return (await this.present([row], viewerId))[0]!;
    },
  };
}

export type RoomViews = ReturnType<typeof createRoomViews>;
