/** What a message's reader sees of a file it carries: the wire shape, from the row and its decrypted meta. */
import type { FileInfo } from '../../shared/file-shapes.js';
import type { Keyring } from '../crypto/keyring.js';
import type { AttachmentRow } from './attachments.repository.js';

/** The decrypted `files.meta_ciphertext` (see FilesTable); the thumbnail's details stay on the server. */
interface FileMeta {
  name: string;
  mime: string;
  width?: number;
  height?: number;
}

/** Only whitelisted fields leave: the thumbnail's meta, the storage and the uploader do not. */
export function presentAttachment(row: AttachmentRow, keyring: Keyring): FileInfo {
  const meta = JSON.parse(keyring.decrypt(row.meta_ciphertext, row.meta_key_id)) as FileMeta;
  const file: FileInfo = { id: row.id, name: meta.name, size: Number(row.size), mime: meta.mime };
  if (typeof meta.width === 'number' && typeof meta.height === 'number') {
    file.width = meta.width;
    file.height = meta.height;
  }
  return file;
}
