/**
 * Plaintext bytes ⇄ Fernet tokens of fixed-size chunks. Every chunk but the last holds
 * exactly `chunkBytes`, so chunk i starts at byte i × chunkBytes: a Range read decrypts
 * only the chunks it touches.
 */
import type { Keyring } from '../crypto/keyring.js';

/** Splits a byte stream into chunks of `chunkBytes` (the last may be shorter, and there is at least one). */
export async function* rechunk(source: AsyncIterable<Uint8Array>, chunkBytes: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let emitted = false;
  for await (const piece of source) {
    let buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (pendingBytes + buffer.length >= chunkBytes) {
      const take = chunkBytes - pendingBytes;
      pending.push(buffer.subarray(0, take));
      yield Buffer.concat(pending, chunkBytes);
      emitted = true;
      buffer = buffer.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buffer.length > 0) {
      pending.push(buffer);
      pendingBytes += buffer.length;
    }
  }
  if (pendingBytes > 0 || !emitted) yield Buffer.concat(pending, pendingBytes);
}

/** Encrypts each chunk under the keyring's primary key. */
export async function* encryptChunks(keyring: Keyring, chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  for await (const chunk of chunks) yield keyring.encryptBytes(chunk).ciphertext;
}

/** Decrypts tokens back to bytes (the named key first, then every other key: a file half-way through rotation still reads). */
export async function* decryptChunks(keyring: Keyring, tokens: AsyncIterable<string>, keyId?: string): AsyncGenerator<Buffer> {
  for await (const token of tokens) yield keyring.decryptBytes(token, keyId);
}

/** The chunks covering bytes `start`..`end` (inclusive). */
export function chunkSpan(start: number, end: number, chunkBytes: number): { from: number; to: number } {
  return { from: Math.floor(start / chunkBytes), to: Math.floor(end / chunkBytes) };
}
