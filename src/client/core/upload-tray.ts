/**
 * The composer's upload tray as a pure value: each file picked, dropped or pasted, its
 * progress, and whether it is ready, still going or refused. The requests themselves live
 * in components/use-uploads.ts; this decides what the tray shows and when Send may go.
 */
import { FILE_LIMITS, type FileInfo } from '../../shared/file-shapes.js';

export interface TrayItem {
  /** Local id, stable for the item's life (retries included). */
  key: string;
  name: string;
  size: number;
  /** The browser's idea of the type (File.type): decides whether "keep metadata" is offered. */
  localType: string;
  /** Bytes sent so far in the current attempt. */
  loaded: number;
  status: 'uploading' | 'done' | 'failed';
  /** Why it failed (the server's message when it answered). */
  error?: string;
  /** The server's file, once stored. */
  file?: FileInfo;
  /** Sent with keepMetadata=true (EXIF kept). */
  keepMetadata: boolean;
}

export type TrayAction =
  | { type: 'add'; key: string; name: string; size: number; localType: string; keepMetadata?: boolean }
  | { type: 'progress'; key: string; loaded: number }
  | { type: 'done'; key: string; file: FileInfo }
  | { type: 'failed'; key: string; error: string }
  /** A new attempt (Retry, or a change of the metadata choice): back to 0 bytes. */
  | { type: 'restart'; key: string; keepMetadata: boolean }
  | { type: 'remove'; key: string }
  | { type: 'clear' };

export function trayReducer(items: readonly TrayItem[], action: TrayAction): readonly TrayItem[] {
  switch (action.type) {
    case 'add':
      return [
        ...items,
        { key: action.key, name: action.name, size: action.size, localType: action.localType, loaded: 0, status: 'uploading', keepMetadata: action.keepMetadata ?? false },
      ];
    case 'progress':
      return update(items, action.key, (item) => (item.status === 'uploading' ? { ...item, loaded: Math.min(item.size, Math.max(item.loaded, action.loaded)) } : item));
    case 'done':
      return update(items, action.key, (item) => ({ ...item, status: 'done', loaded: item.size, file: action.file, error: undefined }));
    case 'failed':
      return update(items, action.key, (item) => ({ ...item, status: 'failed', error: action.error, file: undefined }));
    case 'restart':
      return update(items, action.key, (item) => ({ ...item, status: 'uploading', loaded: 0, error: undefined, file: undefined, keepMetadata: action.keepMetadata }));
    case 'remove':
      return items.filter((item) => item.key !== action.key);
    case 'clear':
      return items.length === 0 ? items : [];
  }
}

function update(items: readonly TrayItem[], key: string, change: (item: TrayItem) => TrayItem): readonly TrayItem[] {
  let changed = false;
  const next = items.map((item) => {
    if (item.key !== key) return item;
    const updated = change(item);
    changed ||= updated !== item;
    return updated;
  });
  return changed ? next : items;
}

/** 0–100, for the progress bar. */
export function progressPercent(item: Pick<TrayItem, 'loaded' | 'size' | 'status'>): number {
  if (item.status === 'done') return 100;
  if (item.size <= 0) return 0;
  return Math.min(100, Math.floor((item.loaded / item.size) * 100));
}

/** How many of `incoming` files fit beside the `held` ones (FILE_LIMITS.attachmentsPerMessageMax). */
export function admit<T>(held: number, incoming: readonly T[], max: number = FILE_LIMITS.attachmentsPerMessageMax): { admitted: T[]; refused: number } {
  const room = Math.max(0, max - held);
  return { admitted: incoming.slice(0, room), refused: Math.max(0, incoming.length - room) };
}

interface SendState {
  canSend: boolean;
  /** Why Send waits, when it does for the tray's sake. */
  reason?: string;
  /** The stored files that go with the message. */
  files: FileInfo[];
}

/**
 * Whether the composer may send now. Send waits for every upload to finish (no message
 * goes out that a file has yet to join), and for a failed one to be retried or removed,
 * so nothing the user attached is silently left behind. A message with files may have no text.
 */
export function sendState(items: readonly TrayItem[], textLength: number, textTooLong: boolean): SendState {
  const files = items.flatMap((item) => (item.status === 'done' && item.file ? [item.file] : []));
  if (items.some((item) => item.status === 'uploading')) return { canSend: false, reason: 'Waiting for the upload to finish…', files };
  if (items.some((item) => item.status === 'failed')) return { canSend: false, reason: 'Retry or remove the file that failed.', files };
  return { canSend: !textTooLong && (textLength > 0 || files.length > 0), files };
}
