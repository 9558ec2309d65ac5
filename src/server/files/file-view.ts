/** A stored file as the API shows it: the wire shape from the row and its decrypted meta. */
import type { FileInfo } from '../../shared/file-shapes.js';
import type { Keyring } from '../crypto/keyring.js';
import type { FilesTable } from '../db/schema.js';

/** The encrypted `meta_ciphertext` document (db/schema.ts FilesTable); `thumbnail.size` is its blob's plaintext bytes. */
export interface FileMeta {
  name: string;
  mime: string;
  width?: number;
  height?: number;
  thumbnail?: { width: number; height: number; mime: string; size: number };
}

/** Only these fields leave: the thumbnail's details, the storage and the uploader stay on the server. */
export function presentFile(id: string, meta: FileMeta, size: number): FileInfo {
  return { id, name: meta.name, size, mime: meta.mime, ...(meta.width && meta.height ? { width: meta.width, height: meta.height } : {}) };
}

export function decryptMeta(row: Pick<FilesTable, 'meta_ciphertext' | 'meta_key_id'>, keyring: Keyring): FileMeta {
  return JSON.parse(keyring.decrypt(row.meta_ciphertext, row.meta_key_id)) as FileMeta;
}

export function presentFileRow(row: Pick<FilesTable, 'id' | 'size' | 'meta_ciphertext' | 'meta_key_id'>, keyring: Keyring): FileInfo {
  return presentFile(row.id, decryptMeta(row, keyring), Number(row.size));
}
