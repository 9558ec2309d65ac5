/**
 * Blobs as files in the data folder: `<root>/<first two characters>/<blobId>`, one Fernet
 * token per line, readable with the key and any Fernet library. A blob is written to
 * `<blobId>.partial`, synced and renamed, so a crash never leaves a half blob under its name.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MissingBlobError, type FileStorage } from './file-storage.js';

const SAFE_BLOB_ID = /^[A-Za-z0-9-]+(\.thumb)?$/;
const NEWLINE = 0x0a;

export function createLocalFileStorage(root: string): FileStorage {
  const blobPath = (blobId: string) => {
    // Ids are ours (UUIDs), never a client's path; checked so a bug cannot become a traversal.
    if (!SAFE_BLOB_ID.test(blobId)) throw new Error(`not a blob id: ${JSON.stringify(blobId)}`);
    return path.join(root, blobId.slice(0, 2), blobId);
  };

  async function syncFolder(folder: string): Promise<void> {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** The length of the first line: every token but the last has it (all chunks but the last are full). */
  async function firstLineLength(file: string): Promise<number> {
    for await (const line of lines(createReadStream(file, { highWaterMark: 128 * 1024 }))) return line.length;
    throw new MissingBlobError(`blob ${path.basename(file)} is empty`);
  }

  return {
    kind: 'local',

    async write(blobId, tokens) {
      const final = blobPath(blobId);
      const folder = path.dirname(final);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const partial = `${final}.partial`;
      const handle = await open(partial, 'w', 0o600);
      let count = 0;
      try {
        for await (const token of tokens) {
          await handle.write(`${token}\n`);
          count += 1;
        }
        await handle.sync();
      } catch (error) {
        await handle.close();
        await rm(partial, { force: true });
        throw error;
      }
      await handle.close();
      await rename(partial, final);
      await syncFolder(folder);
      return count;
    },

    async *read(blobId, from, to) {
      const file = blobPath(blobId);
      let lineLength: number;
      try {
        lineLength = from === 0 ? 0 : await firstLineLength(file);
      } catch (error) {
        throw asMissing(error, blobId);
      }
      const stream = createReadStream(file, { start: from * (lineLength + 1), highWaterMark: 128 * 1024 });
      let index = from;
      try {
        for await (const line of lines(stream)) {
          yield line;
          if (index === to) return;
          index += 1;
        }
      } catch (error) {
        throw asMissing(error, blobId);
      } finally {
        stream.destroy();
      }
      throw new MissingBlobError(`blob ${blobId} ends before chunk ${index}`);
    },

    async delete(blobId) {
      const file = blobPath(blobId);
      await rm(file, { force: true });
      await rm(`${file}.partial`, { force: true });
    },
  };
}

function asMissing(error: unknown, blobId: string): unknown {
  return (error as NodeJS.ErrnoException).code === 'ENOENT' ? new MissingBlobError(`blob ${blobId} is not in the data folder`) : error;
}

/** The stream's '\n'-terminated lines, as text. */
async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest: Buffer | undefined;
  for await (const piece of stream) {
    let buffer = rest ? Buffer.concat([rest, piece]) : piece;
    let end = buffer.indexOf(NEWLINE);
    while (end !== -1) {
      yield buffer.toString('latin1', 0, end);
      buffer = buffer.subarray(end + 1);
      end = buffer.indexOf(NEWLINE);
    }
    rest = buffer.length > 0 ? buffer : undefined;
  }
  if (rest) yield rest.toString('latin1');
}
