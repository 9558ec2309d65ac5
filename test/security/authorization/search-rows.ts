/**
 * The matrix rows of message search (rows.ts spreads them in). With a roomId it is a room
 * row: everyone not in the room — public P included, since only members' rooms are searched
 * — gets 404, the answer for a room that does not exist. Without one it is a user row: every
 * signed-in caller gets a 200 that names nothing of R or P (search-matrix.test.ts checks
 * what members find).
 */
import type { Room } from '../../../src/shared/protocol.js';
import { leakProblems, ok, refused, type RoomRow, type UserRow, type World } from './kit.js';

const markOf = (world: World, room: Room) => (room.id === world.R.id ? world.rMark : world.pMark);

/** A search URL: `q` as typed, and the room to look in. */
export const searchUrl = (q: string, roomId?: string) =>
  `/api/v1/search?q=${encodeURIComponent(q)}${roomId === undefined ? '' : `&roomId=${encodeURIComponent(roomId)}`}`;

export const SEARCH_ROOM_ROWS: RoomRow[] = [
  {
    key: 'GET /api/v1/search',
    probe: (room, world) => ({ method: 'GET', url: searchUrl(markOf(world, room), room.id) }),
    // Not a member of P: not searched, and answered as if it did not exist.
    onPublic: refused(404, 'not_found'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'GET /api/v1/search',
    // Filters only, no word: the room check holds for every kind of query.
    probe: (room) => ({ method: 'GET', url: searchUrl('has:file after:2000-01-01', room.id) }),
    onPublic: refused(404, 'not_found'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
];

export const SEARCH_USER_ROWS: UserRow[] = [
  // Across all the caller's rooms: R's and P's marks, a word of their messages, the owner's messages.
  ...(['rMark', 'pMark'] as const).map(
    (mark): UserRow => ({
      key: 'GET /api/v1/search',
      access: 'user',
      probe: (_caller, world) => ({ method: 'GET', url: searchUrl(world[mark]) }),
      signedIn: ok(200),
      inspect: (response, _caller, world) => leakProblems(response.body, world, true),
    }),
  ),
  {
    key: 'GET /api/v1/search',
    access: 'user',
    probe: (_caller, world) => ({ method: 'GET', url: searchUrl(`from:${world.O.user.username} kick`) }),
    signedIn: ok(200),
    inspect: (response, _caller, world) => leakProblems(response.body, world, true),
  },
];
