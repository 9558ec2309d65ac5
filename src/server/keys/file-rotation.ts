/**
 * Rotation of file contents. A file's chunks are blobs in its storage, not a column, so
 * each file is rewritten whole: its blob (and thumbnail) are read, re-encrypted token by
 * token and written back under the same blob id (the storage swaps the new version in
 * atomically, so a download running meanwhile reads the old tokens or the new ones, which
 * decrypt to the same bytes), and only then does the row name the new key, guarded by the
 * old one. A kill in between leaves a blob under the new key and a row naming the old one:
 * readers try every key, and the next run rewrites that file again.
 */
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { MissingBlobError, thumbnailBlobId } from '../files/file-storage.js';
import type { FileStorages } from '../files/storages.js';
import type { FileKeysRepository, FileToRotate } from './file-keys.repository.js';

const BATCH = 100;

async function* reencrypted(keyring: Keyring, tokens: AsyncIterable<string>, keyId: string): AsyncGenerator<string> {
  for await (const token of tokens) yield keyring.encryptBytes(keyring.decryptBytes(token, keyId)).ciphertext;
}

interface FileRotationResult {
  /** Chunks rewritten under the primary key (thumbnails included). */
  chunks: number;
  /** Stored files whose blob is missing or short: left as they are, named for the operator. */
  broken: string[];
}

export async function rotateFileContents(deps: {
  db: Kysely<Database>;
  files: FileKeysRepository;
  keyring: Keyring;
  storages: FileStorages;
  /** Called with the chunks of each file once its row names the new key. */
  onChunks: (count: number) => void;
}): Promise<FileRotationResult> {
  const { db, files, keyring, storages, onChunks } = deps;
  const broken: string[] = [];
  let chunks = 0;

  /** Rewrites the file's blobs; false when they are gone or incomplete. */
  async function rewrite(file: FileToRotate): Promise<boolean> {
    const storage = storages.of(file.storage);
    const blobs: Array<[string, number]> = [
      [file.id, file.chunkCount],
      [thumbnailBlobId(file.id), file.thumbnailChunks],
    ];
    for (const [blobId, count] of blobs) {
      if (count <= 0) continue;
      try {
        const written = await storage.write(blobId, reencrypted(keyring, storage.read(blobId, 0, count - 1), file.keyId));
        if (written !== count) throw new MissingBlobError(`blob ${blobId} read ${written} of ${count} chunks`);
      } catch (error) {
        if (error instanceof MissingBlobError) return false;
        throw error;
      }
    }
    return true;
  }

  for (let after: string | undefined; ; ) {
    const batch = await files.nextNotUnder(db, keyring.primaryKeyId, after, BATCH);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    for (const file of batch) {
      if (!(await rewrite(file))) {
        // Purged while we read it (then nothing is lost), or broken (then the operator must know).
        if (await files.isStored(db, file.id)) broken.push(file.id);
        continue;
      }
      if (await files.switchContentKey(db, file.id, file.keyId, keyring.primaryKeyId)) {
        chunks += file.chunkCount + file.thumbnailChunks;
        onChunks(file.chunkCount + file.thumbnailChunks);
      } else if (!(await files.isStored(db, file.id))) {
        // Released or purged while we rewrote it: our write may have put back a blob the
        // purge had just removed, so remove it again (the purge wants it gone anyway).
        const storage = storages.of(file.storage);
        await storage.delete(file.id);
        await storage.delete(thumbnailBlobId(file.id));
      }
    }
  }
  return { chunks, broken };
}
