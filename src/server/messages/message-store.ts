/**
 * Where the group commit (message-writer.ts) writes a batch of new messages: one
 * transaction that takes each room's next seqs, in the order given, inserts the rows and
 * moves each sender's read marker up to their last message.
 * On SQLite that transaction runs on a thread of its own (sqlite-message-store.ts) so the
 * event loop is not blocked while it commits; on PostgreSQL it is one statement.
 */
import { sql, type Kysely } from 'kysely';
import type { DatabaseHandle } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { AttachmentUnavailableError, positionsByRoom, type MessageStore, type NewMessage } from './message-batch.js';
import { createSqliteMessageStore } from './sqlite-message-store.js';

/**
 * PostgreSQL: the whole batch is one statement, so one round trip and its own transaction.
 * The CTE locks the batch's rooms in id order (`SELECT … ORDER BY id FOR NO KEY UPDATE`:
 * two instances writing to the same rooms then wait for each other instead of deadlocking;
 * the UPDATE alone locked them in whatever order its plan met them). NO KEY is the lock the
 * UPDATE of last_seq takes anyway, so joins and bans (foreign keys to the room) do not wait
 * for a batch. Then it takes every room's seqs (`UPDATE … FROM unnest(…) RETURNING`), and
 * the INSERT numbers each message back from its room's new last_seq. A reused clientId fails the whole statement.
 * Rows travel as one array per column (`unnest`), not as a VALUES row each: the text is
 * the same for every batch size, and PostgreSQL parses 17 parameters instead of 12 a message.
 * Each sender's read marker moves up to their last message (what one writes, one has read).
 * Rooms are locked before member rows, here and in every transaction that changes both (an
 * owner leaving: rooms.repository lockRoom), so none waits for another in a circle.
 * A batch that names files attaches them in the same statement (`attached`), each only if it
 * is still the sender's stored, unattached upload to the room; such a batch runs in a
 * transaction, rolled back when a file was not attached (another send took it: its UPDATE
 * waited on the row and found it taken). Batches without files stay one statement.
 */
export function createPostgresMessageStore(db: Kysely<Database>): MessageStore {
  return {
    async insertBatch(messages) {
      const rooms = [...positionsByRoom(messages)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      // How far below its room's new last_seq each message lands (the room's last message: 0).
      const fromEnd: number[] = [];
      for (const [, positions] of rooms) positions.forEach((position, i) => (fromEnd[position] = positions.length - 1 - i));
      const column = <K extends keyof NewMessage>(key: K) => messages.map((m) => m[key]);
      const roomIds = rooms.map(([roomId]) => roomId);
      // Mentions as two parallel arrays (message id, user id), inserted by the same statement.
      const mentionMessageIds: string[] = [];
      const mentionUserIds: string[] = [];
      for (const m of messages) {
        for (const userId of m.mention_ids?.split(',') ?? []) (mentionMessageIds.push(m.id), mentionUserIds.push(userId));
      }
      // Attachments as two parallel arrays too (message id, file id).
      const attachMessageIds: string[] = [];
      const attachFileIds: string[] = [];
      for (const m of messages) for (const fileId of m.attachments ?? []) (attachMessageIds.push(m.id), attachFileIds.push(fileId));
      const withFiles = attachFileIds.length > 0;
      const attaching = withFiles
        ? sql`, attached as (
            update files set message_seq = inserted.seq
            from unnest(${attachMessageIds}::text[], ${attachFileIds}::text[]) as fa(message_id, file_id)
              join inserted on inserted.id = fa.message_id
            where files.id = fa.file_id and files.room_id = inserted.room_id and files.uploader_id = inserted.sender_id
              and files.state = 'stored' and files.message_seq is null
            returning fa.message_id || ' ' || files.id as pair
          )`
        : sql``;
      const attachedPairs = withFiles ? sql`, (select coalesce(array_agg(attached.pair), '{}') from attached) as attached` : sql``;
      // One array per column, so the statement's text is the same for every batch size.
      const statement = sql<{ id: string; seq: number; attached?: string[] }>`
        with locked as (
          select id from rooms where id = any(${roomIds}::text[]) order by id for no key update
        ), seqs as (
          update rooms set last_seq = rooms.last_seq + taken.n
          from unnest(${roomIds}::text[], ${rooms.map(([, positions]) => positions.length)}::bigint[]) as taken(id, n)
            join locked on locked.id = taken.id
          where rooms.id = taken.id
          returning rooms.id, rooms.last_seq
        ), inserted as (
          insert into messages (id, room_id, seq, sender_id, client_id, body_format, body_ciphertext, body_key_id, created_at, edited_at, reply_to_seq, mention_ids)
          select m.id, m.room_id, seqs.last_seq - m.from_end, m.sender_id, m.client_id, m.body_format, m.body_ciphertext, m.body_key_id, m.created_at, m.edited_at,
            m.reply_to_seq, m.mention_ids
          from unnest(
            ${column('id')}::text[], ${column('room_id')}::text[], ${fromEnd}::bigint[], ${column('sender_id')}::text[],
            ${column('client_id')}::text[], ${column('body_format')}::text[], ${column('body_ciphertext')}::text[],
            ${column('body_key_id')}::text[], ${column('created_at')}::bigint[], ${column('edited_at')}::bigint[],
            ${column('reply_to_seq')}::bigint[], ${column('mention_ids')}::text[]
          ) as m(id, room_id, from_end, sender_id, client_id, body_format, body_ciphertext, body_key_id, created_at, edited_at, reply_to_seq, mention_ids)
          join seqs on seqs.id = m.room_id
          returning id, seq, room_id, sender_id
        ), mentioned as (
          insert into message_mentions (room_id, user_id, seq)
          select inserted.room_id, mm.user_id, inserted.seq
          from unnest(${mentionMessageIds}::text[], ${mentionUserIds}::text[]) as mm(message_id, user_id)
          join inserted on inserted.id = mm.message_id
        ), read_up_to as (
          select room_id, sender_id, max(seq) as seq from inserted group by room_id, sender_id
        ), marked as (
          update room_members set last_read_seq = read_up_to.seq
          from read_up_to
          where room_members.room_id = read_up_to.room_id and room_members.user_id = read_up_to.sender_id
            and room_members.last_read_seq < read_up_to.seq
        )${attaching}
        select id, seq${attachedPairs} from inserted
      `;
      const rows = withFiles
        ? await db.transaction().execute(async (trx) => {
            const { rows: written } = await statement.execute(trx);
            const attached = new Set(written[0]?.attached ?? []);
            const missing = attachFileIds.findIndex((fileId, i) => !attached.has(`${attachMessageIds[i]} ${fileId}`));
            if (missing >= 0) throw new AttachmentUnavailableError(attachFileIds[missing]!);
            return written;
          })
        : (await statement.execute(db)).rows;
      if (rows.length !== messages.length) throw new Error('a message names a room that does not exist');
      // Ids are new UUIDs, so each returned row is one message of the batch.
      const seqById = new Map(rows.map((row) => [row.id, Number(row.seq)]));
      return messages.map((m) => seqById.get(m.id)!);
    },
    close: async () => {},
  };
}

/** The store for the database: a writer thread on SQLite, Kysely on PostgreSQL. */
export function createMessageStore(database: DatabaseHandle): MessageStore {
  return database.target.dialect === 'sqlite'
    ? createSqliteMessageStore(database.target.file, { onQuery: database.onQuery })
    : createPostgresMessageStore(database.db);
}
