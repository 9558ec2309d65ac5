/**
 * Keeping a connection's room subscriptions in line with the database: at set-up, and
 * for every local socket when the bus may have lost events.
 */
import type { ServerFrame } from '../../shared/protocol.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { Connection, Connections } from './connections.js';

/** Users whose rooms are re-read at once on a resync (bounds the burst of queries). */
const RESYNC_CONCURRENCY = 8;

type RoomSeqs = Array<{ id: string; lastSeq: number; lastChange: number }>;

export interface ResyncOptions {
  connections: Connections;
  rooms: Pick<RoomsService, 'roomSeqs'>;
  send: (connection: Connection, frame: ServerFrame) => void;
}

export function createResync({ connections, rooms, send }: ResyncOptions) {
  /**
   * Subscribes the connection to exactly the rooms read, corrected by the joins and leaves
   * heard while the read ran (they are newer than it, whichever way the race went).
   * Returns the rooms for hello, or undefined when the socket closed meanwhile.
   */
  function adopt(connection: Connection, seqs: RoomSeqs): RoomSeqs | undefined {
    if (!connections.has(connection)) return undefined;
    const current = new Set(seqs.map((room) => room.id));
    for (const [roomId, member] of connection.heardWhileReading ?? []) {
      if (member) current.add(roomId);
      else current.delete(roomId);
    }
    for (const roomId of [...connection.rooms]) if (!current.has(roomId)) connections.unsubscribe(connection, roomId);
    for (const roomId of current) connections.subscribe(connection, roomId);
    return seqs.filter((room) => current.has(room.id));
  }

  /**
   * The bus may have lost events (its connection dropped and is back): bring every local
   * socket's rooms in line with the database, then send it a fresh hello so the client
   * fetches `after=` whatever it lacks. One query per user, a few users at a time.
   */
  async function resync(): Promise<void> {
    const users = connections.users();
    const next = async (): Promise<void> => {
      for (let entry = users.shift(); entry; entry = users.shift()) {
        const [userId, own] = entry;
        const list = [...own];
        await Promise.all(list.map((connection) => connection.setUpDone));
        for (const connection of list) connection.heardWhileReading = new Map();
        try {
          const seqs = await rooms.roomSeqs(userId);
          for (const connection of list) {
            const current = adopt(connection, seqs);
            if (current) send(connection, { type: 'hello', user: connection.user, rooms: current });
          }
        } finally {
          for (const connection of list) delete connection.heardWhileReading;
        }
      }
    };
    await Promise.all(Array.from({ length: RESYNC_CONCURRENCY }, next));
  }

  return { adopt, resync };
}
