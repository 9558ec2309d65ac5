import type { Kysely } from 'kysely';

// Attachments. A file's bytes live in its storage (the data folder or file_chunks) as
// Fernet tokens of 64 KiB chunks; the row holds what the server needs to serve and
// account for it. Name, type and image dimensions are one encrypted JSON document.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('uploader_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // 'uploading' until every chunk is stored; 'stored' once readable; 'released' when its message was deleted (bytes being purged).
    .addColumn('state', 'text', (c) => c.notNull())
    // Which storage holds the chunks ('local' or 'database'), so changing FILE_STORAGE loses nothing.
    .addColumn('storage', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('chunk_count', 'integer', (c) => c.notNull())
    .addColumn('chunk_size', 'integer', (c) => c.notNull())
    // The key the chunks were written under; rotation re-encrypts a file whose key is not the primary.
    .addColumn('content_key_id', 'text', (c) => c.notNull())
    .addColumn('meta_ciphertext', 'text', (c) => c.notNull())
    .addColumn('meta_key_id', 'text', (c) => c.notNull())
    // Chunks of the thumbnail (blob `<id>.thumb`); 0 when there is none.
    .addColumn('thumbnail_chunks', 'integer', (c) => c.notNull().defaultTo(0))
    // The message that names it (same room); null until attached.
    .addColumn('message_seq', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('files_room_message').on('files').columns(['room_id', 'message_seq']).execute();
  await db.schema.createIndex('files_uploader').on('files').columns(['uploader_id']).execute();
  await db.schema.createIndex('files_state_created').on('files').columns(['state', 'created_at']).execute();

  // Chunks of files kept in the database storage: one Fernet token per row.
  await db.schema
    .createTable('file_chunks')
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('file_chunks_pk', ['blob_id', 'idx'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('file_chunks').execute();
  await db.schema.dropTable('files').execute();
}
