/**
 * Rooms as a viewer sees them, DMs with their people (named by the others) and whether
 * each is online: one query and one presence look-up for every DM in the list, none when
 * it holds no DM.
 */
import type { Kysely } from 'kysely';
import type { DmMember, Room } from '../../shared/protocol.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import type { Presence } from '../platform/cluster/presence.js';
import type { DmsRepository } from './dms.repository.js';
import { presentRoom } from './rooms.presenter.js';
import type { RoomViewRow } from './rooms.repository.js';

export function createRoomViews(deps: { db: Kysely<Database>; dms: DmsRepository; keyring: Keyring; presence: Pick<Presence, 'onlineAmong'> }) {
  const { db, dms, keyring, presence } = deps;
  return {
    async present(rows: readonly RoomViewRow[], viewerId: string): Promise<Room[]> {
      const dmIds = rows.filter((row) => row.kind === 'dm').map((row) => row.id);
      const people = new Map<string, DmMember[]>();
      const memberRows = await dms.membersOf(db, dmIds);
      const online = memberRows.length > 0 ? await presence.onlineAmong([...new Set(memberRows.map((row) => row.id))]) : new Set<string>();
      for (const member of memberRows) {
        let list = people.get(member.room_id);
        if (!list) people.set(member.room_id, (list = []));
        list.push({ id: member.id, username: member.username, online: online.has(member.id) });
      }
      return rows.map((row) => presentRoom(row, keyring, row.kind === 'dm' ? { members: people.get(row.id) ?? [], viewerId } : undefined));
    },

    async presentOne(row: RoomViewRow, viewerId: string): Promise<Room> {
      return (await this.present([row], viewerId))[0]!;
    },
  };
}

export type RoomViews = ReturnType<typeof createRoomViews>;
