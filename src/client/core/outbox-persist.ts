/**
 * The outbox's unsent messages, kept in localStorage per user so a reload (or a tab closed
 * while offline) loses nothing: they are shown again and re-sent with the same clientId,
 * which the server answers with the one message it already has, if it has it.
 */
import type { FileInfo } from '../../shared/file-shapes.js';
import { readJson, userKey, writeJson } from './local-store.js';

export interface UnsentMessage {
  roomId: string;
  clientId: string;
  body: string;
  /** The seq it replies to, if it is a reply. */
  replyTo?: number;
  /** Files already uploaded that go with it (the server keeps them a day unattached). */
  attachments?: readonly FileInfo[];
  /** Why the server refused it (not re-sent by itself: the user retries or discards). */
  refused?: string;
}

export function loadUnsent(userId: string): UnsentMessage[] {
  const stored = readJson<unknown>(userKey('outbox', userId));
  return Array.isArray(stored) ? stored.filter(isUnsent) : [];
}

export function saveUnsent(userId: string, messages: readonly UnsentMessage[]): void {
  writeJson(userKey('outbox', userId), messages.length > 0 ? messages : null);
}

function isUnsent(value: unknown): value is UnsentMessage {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.roomId === 'string' && typeof entry.clientId === 'string' && typeof entry.body === 'string' && (entry.replyTo === undefined || typeof entry.replyTo === 'number') && (entry.attachments === undefined || isFileList(entry.attachments));
}

function isFileList(value: unknown): value is FileInfo[] {
  return Array.isArray(value) && value.every((file) => typeof file === 'object' && file !== null && typeof (file as FileInfo).id === 'string' && typeof (file as FileInfo).name === 'string');
}
