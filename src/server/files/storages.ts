/**
 * Both storages, so a file is always read from the one its row names, whatever
 * FILE_STORAGE says today; new files go to `current`.
 */
import type { Kysely } from 'kysely';
import type { FilesConfig } from '../config.js';
import type { Database, FileStorageKind } from '../db/schema.js';
import { createDatabaseFileStorage } from './database-file-storage.js';
import type { FileStorage } from './file-storage.js';
import { createLocalFileStorage } from './local-file-storage.js';

export interface FileStorages {
  current: FileStorage;
  of(kind: FileStorageKind): FileStorage;
}

export function createFileStorages(config: Pick<FilesConfig, 'storage' | 'folder'>, db: Kysely<Database>): FileStorages {
  const byKind: Record<FileStorageKind, FileStorage> = {
    local: createLocalFileStorage(config.folder),
    database: createDatabaseFileStorage(db),
  };
  return { current: byKind[config.storage], of: (kind) => byKind[kind] };
}
