/**
 * The SQLite message writer's thread (see sqlite-message-store.ts). It owns one
 * connection and answers each batch with its seqs once the transaction has committed.
 * It also writes the database file storage's chunks (files/chunk-writer.ts), one request
 * per transaction, in the order they come with the message batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { immediateTransaction, openSqliteConnection } from '../db/sqlite.js';
import { sqliteChunkWrites, type ChunkRequest } from '../files/chunk-writer.js';
import { AttachmentUnavailableError, positionsByRoom, type NewMessage } from './message-batch.js';

export type WriterRequest =
  | {
      id: number;
      kind: 'messages';
      messages: readonly NewMessage[];
      /** Report the statements run (tests pin the number of queries per send). */
      trace: boolean;
    }
  | ({ id: number } & ChunkRequest);

export type WriterReply =
  | { id: number; seqs: number[]; statements?: string[] }
  | { id: number; done: true; statements?: string[] }
  | { id: number; error: { message: string; code?: string; fileId?: string }; statements?: string[] };

const TAKE_SEQS = 'update "rooms" set "last_seq" = "last_seq" + ? where "id" = ? returning "last_seq"';
const COLUMNS = ['id', 'room_id', 'seq', 'sender_id', 'client_id', 'body_format', 'body_ciphertext', 'body_key_id', 'created_at', 'edited_at', 'reply_to_seq', 'mention_ids'] as const;
const INSERT = `insert into "messages" (${COLUMNS.map((column) => `"${column}"`).join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`;
// What one writes, one has read: the sender's marker moves up to their last message.
// One row per member mentioned: what the room list counts (rooms/room-activity.repository.ts).
const MENTION = 'insert into "message_mentions" ("room_id", "user_id", "seq") values (?, ?, ?)';
const MARK_READ = 'update "room_members" set "last_read_seq" = ? where "room_id" = ? and "user_id" = ? and "last_read_seq" < ?';
// A file is attached only if it is still the sender's stored, unattached upload to the room:
// under the write lock, so of two sends naming it the second finds it taken.
const ATTACH =
  'update "files" set "message_seq" = ? where "id" = ? and "room_id" = ? and "uploader_id" = ? and "state" = \'stored\' and "message_seq" is null';

// This thread does nothing but write: it may sleep while the main connection holds the lock.
const connection = openSqliteConnection((workerData as { file: string }).file, { waitsInSqlite: true });
const takeSeqs = connection.prepare(TAKE_SEQS);
const insert = connection.prepare(INSERT);
const markRead = connection.prepare(MARK_READ);
const mention = connection.prepare(MENTION);
const attach = connection.prepare(ATTACH);
const writeChunks = sqliteChunkWrites(connection);

/** One transaction (BEGIN IMMEDIATE … COMMIT; rolled back if anything throws). */
const insertBatch = (messages: readonly NewMessage[]): number[] => immediateTransaction(connection, () => {
  const seqs: number[] = [];
  for (const [roomId, positions] of positionsByRoom(messages)) {
    const row = takeSeqs.get([positions.length, roomId]) as { last_seq: number } | undefined;
    if (!row) throw Object.assign(new Error(`room ${roomId} does not exist`), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    const last = Number(row.last_seq);
    positions.forEach((position, i) => (seqs[position] = last - positions.length + 1 + i));
  }
  const readUpTo = new Map<string, { roomId: string; userId: string; seq: number }>();
  messages.forEach((message, i) => {
    insert.run(COLUMNS.map((column) => (column === 'seq' ? seqs[i] : message[column] ?? null)));
    for (const userId of message.mention_ids?.split(',') ?? []) mention.run([message.room_id, userId, seqs[i]!]);
    for (const fileId of message.attachments ?? []) {
      if (Number(attach.run([seqs[i]!, fileId, message.room_id, message.sender_id]).changes) !== 1) throw new AttachmentUnavailableError(fileId);
    }
    readUpTo.set(`${message.room_id} ${message.sender_id}`, { roomId: message.room_id, userId: message.sender_id, seq: seqs[i]! });
  });
  for (const { roomId, userId, seq } of readUpTo.values()) markRead.run([seq, roomId, userId, seq]);
  return seqs;
});

/** A failure as the main thread rebuilds it: SQLite's code and the file id kept. */
function failure(error: unknown): { message: string; code?: string; fileId?: string } {
  const { message, code, fileId } = error as { message: string; code?: string; fileId?: string };
  return { message, ...(typeof code === 'string' ? { code } : {}), ...(typeof fileId === 'string' ? { fileId } : {}) };
}

parentPort!.on('message', (request: WriterRequest) => {
  if (request.kind !== 'messages') {
    try {
      writeChunks(request);
      parentPort!.postMessage({ id: request.id, done: true } satisfies WriterReply);
    } catch (error) {
      parentPort!.postMessage({ id: request.id, error: failure(error) } satisfies WriterReply);
    }
    return;
  }
  const mentions = request.messages.some((message) => message.mention_ids);
  const files = request.messages.some((message) => message.attachments?.length);
  const statements = request.trace ? ['begin immediate', TAKE_SEQS, INSERT, ...(mentions ? [MENTION] : []), ...(files ? [ATTACH] : []), MARK_READ, 'commit'] : undefined;
  let reply: WriterReply;
  try {
    reply = { id: request.id, seqs: insertBatch(request.messages), ...(statements ? { statements } : {}) };
  } catch (error) {
    reply = { id: request.id, error: failure(error), ...(statements ? { statements } : {}) };
  }
  parentPort!.postMessage(reply);
});
