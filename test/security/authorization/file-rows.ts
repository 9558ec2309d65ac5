/**
 * The matrix rows of files (rows.ts spreads them in), and the files of the world they aim
 * at: uploads by the owner O, one attached to a message in R, one in P, one in R that no
 * message names yet. Nobody among the refused callers is a member of R or P, so every file
 * answers them 404, byte-for-byte the answer for a file id nobody has.
 */
import { randomUUID } from 'node:crypto';
import type { Room } from '../../../src/shared/protocol.js';
import type { TestApp } from '../../support/app.js';
import { multipart, uploadFile } from '../../support/files.js';
import { HIDDEN, ok, refused, type Probe, type RoomRow, type UserRow, type World } from './kit.js';

/** A multipart upload of a small text file marked with the room's mark. */
export function uploadProbe(room: Room, world: World): Probe {
  const mark = room.id === world.R.id ? world.rMark : world.pMark;
  const { payload, contentType } = multipart([{ name: 'file', filename: `${mark}.txt`, contentType: 'text/plain', data: Buffer.from(`${mark} file ${randomUUID()}`) }]);
  return { method: 'POST', url: `/api/v1/rooms/${room.id}/files`, payload, headers: { 'content-type': contentType } };
}

export const FILE_ROOM_ROWS: RoomRow[] = [
  {
    key: 'POST /api/v1/rooms/:roomId/files',
    probe: (room, world) => uploadProbe(room, world),
    onPublic: refused(403, 'not_member'),
    member: ok(201),
    moderator: ok(201),
    owner: ok(201),
  },
];

const fileUrl = (id: string, part: '' | '/thumbnail') => `/api/v1/files/${id}${part}`;

export const FILE_USER_ROWS: UserRow[] = (['', '/thumbnail'] as const).flatMap((part) =>
  (['attachedInR', 'attachedInP', 'pendingInR'] as const).map(
    (which): UserRow => ({
      key: `GET /api/v1/files/:fileId${part}`,
      access: 'user',
      probe: (_caller, world) => ({ method: 'GET', url: fileUrl(world.files[which], part) }),
      signedIn: HIDDEN,
      sameAs: () => ({ method: 'GET', url: fileUrl(randomUUID(), part) }),
    }),
  ),
);

/** O's files in R and P (world.files), two of them attached to O's notes. */
export async function uploadWorldFiles(t: TestApp, world: World): Promise<World['files']> {
  const upload = (room: Room, mark: string) => uploadFile(t.app, world.O, room.id, { name: `${mark}.txt`, data: Buffer.from(`${mark} secret file`) });
  const [inR, inP, pending] = [await upload(world.R, world.rMark), await upload(world.P, world.pMark), await upload(world.R, world.rMark)];
  for (const [file, room] of [[inR, world.R], [inP, world.P]] as const) {
    await t.database.db.updateTable('files').set({ message_seq: world.notes[room.id]!.byOwner }).where('id', '=', file.id).execute();
  }
  return { attachedInR: inR.id, attachedInP: inP.id, pendingInR: pending.id };
}
