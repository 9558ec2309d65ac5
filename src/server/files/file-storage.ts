/**
 * Where a file's encrypted chunks live. A blob is an ordered list of Fernet tokens (one per
 * 64 KiB of plaintext); storages never see plaintext. Two implementations: the data folder
 * (default) and the database (so several instances share files with no extra service).
 */
import type { FileStorageKind } from '../db/schema.js';

export interface FileStorage {
  readonly kind: FileStorageKind;
  /**
   * Stores the tokens in order under `blobId` and resolves with their count once they are
   * durable. Until then nothing is readable under that id; an existing blob is replaced
   * whole (readers see the old or the new one, never a mix).
   */
  write(blobId: string, tokens: AsyncIterable<string>): Promise<number>;
  /** Tokens `from` to `to` (inclusive, 0-based), in order; throws when the blob or a chunk is missing. */
  read(blobId: string, from: number, to: number): AsyncIterable<string>;
  /** Removes the blob; removing one that is not there is not an error. */
  delete(blobId: string): Promise<void>;
}

/** A blob or chunk the row says exists is not in the storage. */
export class MissingBlobError extends Error {
  override readonly name = 'MissingBlobError';
}

/** The thumbnail's blob id beside its file's. */
export const thumbnailBlobId = (fileId: string): string => `${fileId}.thumb`;
