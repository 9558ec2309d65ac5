/**
 * Both storages, so a file is always read from the one its row names, whatever
 * FILE_STORAGE says today; new files go to `current`.
 */
import type { Kysely } from 'kysely';
import type { FilesConfig } from '../config.js';
import type { Database, FileStorageKind } from '../db/schema.js';
import type { ChunkWriter } from './chunk-writer.js';
import { createDatabaseFileStorage } from './database-file-storage.js';
import type { FileStorage } from './file-storage.js';
import { createLocalFileStorage } from './local-file-storage.js';

export interface FileStorages {
  current: FileStorage;
  of(kind: FileStorageKind): FileStorage;
}

/** `chunkWriter`: where the database storage writes (SQLite's writer thread); the main connection without one (the CLI). */
export function createFileStorages(config: Pick<FilesConfig, 'storage' | 'folder'>, db: Kysely<Database>, chunkWriter?: ChunkWriter): FileStorages {
  const byKind: Record<FileStorageKind, FileStorage> = {
    local: createLocalFileStorage(config.folder),
    database: createDatabaseFileStorage(db, chunkWriter),
  };
  return { current: byKind[config.storage], of: (kind) => byKind[kind] };
}
