/**
 * Rooms and membership: creating rooms, the directory, joining (public, by name; by invite
 * in invites.service), leaving, members and read markers. Every membership change is
 * published on the bus after commit, so sockets are subscribed or unsubscribed at once.
 * Moderation and invites are their own services; all three share rooms.access.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { normaliseName, roomNameProblem } from '../../shared/names.js';
import { LIMITS, type Member, type Room } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database, Db } from '../db/schema.js';
import { errors } from '../http/errors.js';
import { nameKeys } from '../names/name-keys.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { Presence } from '../platform/cluster/presence.js';
import type { InvitesRepository } from './invites.repository.js';
import type { RoomViews } from './room-views.js';
import { roomNotFound, type RoomAccess } from './rooms.access.js';
import type { RoomEvents } from './room-events.service.js';
import { allows } from './rooms.policy.js';
import { presentMember, presentRoom } from './rooms.presenter.js';
import type { RoomRow, RoomsRepository } from './rooms.repository.js';

export const GENERAL_ROOM_NAME = 'General';
const DIRECTORY_LIMIT = 50;

export interface CreateRoomInput {
  name: string;
  description?: string;
  isPrivate?: boolean;
}

export function createRoomsService(deps: {
  db: Kysely<Database>;
  rooms: RoomsRepository;
  invites: InvitesRepository;
  access: RoomAccess;
  keyring: Keyring;
  clock: Clock;
  bus: Bus;
  presence: Presence;
  /** Presents rooms with DMs' people (DMs are named by them). */
  views: RoomViews;
  events: RoomEvents;
  /** An owner's leave (room-management.service): refused while others remain, else the room is deleted. */
  ownerLeaves: (ownerId: string, roomId: string) => Promise<void>;
}) {
  const { db, rooms, invites, access, keyring, clock, bus, presence, views, events, ownerLeaves } = deps;
  const { authorize, admit, addMember, joined } = access;

  function validateName(raw: string): string {
    const name = normaliseName(raw);
    const problem = roomNameProblem(name);
    if (problem) throw errors.validation(problem, 'name');
    return name;
  }

  function newRoom(userId: string, name: string, isPrivate: boolean, description?: { ciphertext: string; keyId: string }): RoomRow {
    return {
      id: randomUUID(),
      name,
      name_key: name.toLowerCase(),
      description_ciphertext: description?.ciphertext ?? null,
      description_key_id: description?.keyId ?? null,
      is_private: isPrivate ? 1 : 0,
      owner_id: userId,
      last_seq: 0,
      created_at: clock.now(),
      kind: 'room',
      dm_key: null,
    };
  }

  return {
    /** Policy check shared with the messages service and the socket gateway. */
    authorize,

    /**
     * Adds the user to General, creating it (owned by this user) on first need. General is
     * the public room named exactly so, never a look-alike that holds its name keys.
     */
    async joinGeneral(trx: Db, userId: string): Promise<void> {
      const nameKey = GENERAL_ROOM_NAME.toLowerCase();
      let general = await rooms.findPublicByExactNameKey(trx, nameKey);
      if (!general) {
        await rooms.lockGeneralCreation(trx);
        general = await rooms.findPublicByExactNameKey(trx, nameKey); // made by whoever held the lock
      }
      if (!general) {
        general = newRoom(userId, GENERAL_ROOM_NAME, false);
        await rooms.insert(trx, general);
        // Whatever keys are free: an older look-alike room keeps those it holds.
        await rooms.reserveNameKeys(trx, general.id, nameKeys(GENERAL_ROOM_NAME));
      }
      const isOwner = general.owner_id === userId;
      // A newcomer's join shows in General's history (nobody else is subscribed to them yet).
      if ((await addMember(general.id, userId, isOwner ? 'owner' : 'member', trx)) && !isOwner) await events.record(trx, general.id, userId, 'joined');
    },

    async listMine(userId: string): Promise<Room[]> {
      return views.present(await rooms.listForMember(db, userId), userId);
    },

    /** Ids and last seqs of the user's rooms: what a socket subscribes to. */
    async roomSeqs(userId: string): Promise<Array<{ id: string; lastSeq: number; lastChange: number }>> {
      return (await rooms.roomSeqsForMember(db, userId)).map((row) => ({ id: row.id, lastSeq: Number(row.last_seq), lastChange: Number(row.last_change ?? 0) }));
    },

    async directory(userId: string, query: string): Promise<Room[]> {
      return (await rooms.listPublic(db, userId, query.trim(), DIRECTORY_LIMIT)).map((row) => presentRoom(row, keyring));
    },

    async get(userId: string, roomId: string): Promise<Room> {
      await authorize(userId, roomId, 'view');
      const view = await rooms.findView(db, userId, roomId);
      if (!view) throw roomNotFound();
      return views.presentOne(view, userId);
    },

    async create(userId: string, input: CreateRoomInput): Promise<Room> {
      const name = validateName(input.name);
      const description = (input.description ?? '').trim();
      if (description.length > LIMITS.roomDescriptionMax) {
        throw errors.validation(`Description must be at most ${LIMITS.roomDescriptionMax} characters.`, 'description');
      }
      const isPrivate = input.isPrivate === true;
      const room = newRoom(userId, name, isPrivate, description ? keyring.encrypt(description) : undefined);
      // Only a public room reserves its name (and its look-alikes): a private one must not
      // tell an outsider that it exists, so private rooms share names freely.
      await db.transaction().execute(async (trx) => {
        await rooms.insert(trx, room);
        if (!isPrivate && !(await rooms.reserveNameKeys(trx, room.id, nameKeys(name)))) {
          // Thrown inside, so the room row rolls back with it.
          throw errors.conflict('room_name_taken', 'A public room with that name, or one that looks like it, already exists; choose another name.', 'name');
        }
        await addMember(room.id, userId, 'owner', trx);
      });
      return joined(userId, room.id);
    },

    /** The seed's join-by-name: public rooms only; a private name answers like an unknown one. */
    async joinByName(userId: string, rawName: string): Promise<Room> {
      const room = await rooms.findPublicByNameKey(db, normaliseName(rawName).toLowerCase());
      if (!room || !allows(null, 'join', room)) throw errors.notFound('A public room with that name');
      return joined(userId, room.id, await admit(room, userId));
    },

    async join(userId: string, roomId: string): Promise<Room> {
      const view = await rooms.findView(db, userId, roomId);
      if (!view || (view.role === null && !allows(null, 'join', view))) throw roomNotFound();
      return joined(userId, roomId, view.role === null ? await admit(view, userId) : null);
    },

    /** Leaves the room; an owner must hand it over first (or is alone, and the room goes with them). */
    async leave(userId: string, roomId: string): Promise<void> {
      const view = await authorize(userId, roomId, 'read');
      if (view.role === 'owner') return ownerLeaves(userId, roomId);
      const eventId = await db.transaction().execute(async (trx) => {
        if (!(await rooms.removeMember(trx, roomId, userId))) return undefined;
        await invites.revokeMadeBy(trx, roomId, userId, clock.now()); // their links stop with them
        return events.record(trx, roomId, userId, 'left');
      });
      const event = await events.present(eventId);
      await bus.publish({ kind: 'member', roomId, userId, change: 'left', ...(event ? { event } : {}) });
    },

    async members(userId: string, roomId: string): Promise<Member[]> {
      await authorize(userId, roomId, 'listMembers');
      const rows = await rooms.listMembers(db, roomId);
      // One presence look-up for the whole list (presence may be shared between instances).
      const online = await presence.onlineAmong(rows.map((row) => row.user_id));
      return rows.map((row) => presentMember(row, online.has(row.user_id)));
    },

    async markRead(userId: string, roomId: string, seq: number): Promise<void> {
      const view = await authorize(userId, roomId, 'read');
      await rooms.advanceReadMarker(db, roomId, userId, Math.min(seq, Number(view.last_seq)));
    },
  };
}

export type RoomsService = ReturnType<typeof createRoomsService>;
