/**
 * Attachments: the files a message carries. The rule for naming a file in a send lives
 * here, once, for the HTTP route and the socket frame alike (both go through
 * messages.service send): the sender's own upload, to this room, stored, not yet sent.
 * The check before the write gives the specific answer; the write itself attaches each
 * file only if it still passes (message-store.ts), so two sends naming one file cannot both win.
 */
import { FILE_LIMITS, type FileInfo } from '../../shared/file-shapes.js';
import type { Message } from '../../shared/protocol.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import { presentFileRow } from './file-view.js';
import type { AttachmentRow, AttachmentsRepository } from './attachments.repository.js';

/** The one answer for any file a send may not name: unknown, someone else's, another room's, or sent already (no oracle for which). */
export function invalidAttachment(fileId: string): AppError {
  return new AppError(400, 'invalid_attachment', `File ${fileId} is not an upload of yours to this room waiting to be sent.`, 'attachments');
}

/** Whether a sender may attach this file to a new message in the room. */
function isAttachable(row: Pick<AttachmentRow, 'room_id' | 'uploader_id' | 'state' | 'message_seq'>, senderId: string, roomId: string): boolean {
  return row.room_id === roomId && row.uploader_id === senderId && row.state === 'stored' && row.message_seq == null;
}

/** A message row as far as its files go: `has_files` is read with it (messages.repository.ts). */
interface RowWithFiles {
  seq: number;
  has_files?: number | boolean | null;
  deleted_at?: number | null;
}

export function createAttachments(deps: { repository: AttachmentsRepository; keyring: Keyring }) {
  const { repository, keyring } = deps;

  /** Files in upload order, as every read shows them. */
  const inUploadOrder = (rows: AttachmentRow[]) =>
    [...rows].sort((a, b) => Number(a.created_at) - Number(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  /** The list's own shape (the schemas check it too; direct callers pass here as well). */
  function checkIds(ids: readonly string[]): void {
    if (ids.length > FILE_LIMITS.attachmentsPerMessageMax) {
      throw errors.validation(`A message may carry at most ${FILE_LIMITS.attachmentsPerMessageMax} files.`, 'attachments');
    }
    if (new Set(ids).size !== ids.length) throw errors.validation('attachments must not name the same file twice.', 'attachments');
  }

  /**
   * The files of these messages, by seq: one query for all of them, and none when no row
   * has any (the common page). A deleted message has none.
   */
  async function ofRows(db: Db, roomId: string, rows: readonly RowWithFiles[]): Promise<Map<number, FileInfo[]>> {
    const bySeq = new Map<number, FileInfo[]>();
    const seqs = rows.filter((row) => Boolean(row.has_files) && row.deleted_at == null).map((row) => Number(row.seq));
    for (const row of await repository.ofMessages(db, roomId, seqs)) {
      const seq = Number(row.message_seq);
      const files = bySeq.get(seq);
      if (files) files.push(presentFileRow(row, keyring));
      else bySeq.set(seq, [presentFileRow(row, keyring)]);
    }
    return bySeq;
  }

  return {
    checkIds,
    ofRows,

    /**
     * The files a new message will carry, as its readers will see them; a 400 naming the
     * first id that may not be attached. One query, only for a send that names files.
     */
    async forSend(db: Db, senderId: string, roomId: string, ids: readonly string[]): Promise<FileInfo[]> {
      if (ids.length === 0) return [];
      checkIds(ids);
      const byId = new Map((await repository.byIds(db, ids)).map((row) => [row.id, row]));
      for (const id of ids) {
        const row = byId.get(id);
        if (!row || !isAttachable(row, senderId, roomId)) throw invalidAttachment(id);
      }
      return inUploadOrder([...byId.values()]).map((row) => presentFileRow(row, keyring));
    },

    /** Sets `attachments` on messages presented without them (their rows say which have files). */
    async fill(db: Db, roomId: string, rows: readonly RowWithFiles[], messages: Message[]): Promise<Message[]> {
      const bySeq = await ofRows(db, roomId, rows);
      for (const message of messages) message.attachments = bySeq.get(message.seq) ?? [];
      return messages;
    },

    /** In the delete's transaction: the message's files are no longer served; how many were released. */
    release(trx: Db, roomId: string, seq: number): Promise<number> {
      return repository.release(trx, roomId, seq);
    },
  };
}

export type Attachments = ReturnType<typeof createAttachments>;
