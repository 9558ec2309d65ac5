/**
 * Attachments as the timeline shows them: sizes in words, the box a thumbnail takes
 * before it loads, which icon a file card gets and where the bytes are. Pure, so the
 * unit tests read it without a DOM.
 */
import type { FileInfo } from '../shared/file-shapes.js';
import type { Message } from '../shared/protocol.js';
import type { IconName } from './components/Icon.js';

/** The largest box a thumbnail is shown in (CSS pixels); it shrinks further on a narrow screen. */
export const THUMBNAIL_BOX = { width: 320, height: 240 } as const;

/** The message's files; [] also for a message from a server older than attachments. */
export function attachmentsOf(message: Message): readonly FileInfo[] {
  return message.attachments ?? [];
}

/** "0 B", "512 B", "1.5 KB", "23 KB", "4.2 MB": binary units, as FILE_MAX_MB counts them. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // One decimal while it tells something (under 10), whole numbers after; 1023.96 KB reads "1 MB".
  let text = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  if (text === '1024' && unit < units.length - 1) {
    text = '1';
    unit += 1;
  }
  return `${text} ${units[unit]}`;
}

/** A raster image with a thumbnail: the server sets width and height only for those. */
export function isImage(file: FileInfo): file is FileInfo & { width: number; height: number } {
  return file.width !== undefined && file.height !== undefined;
}

/**
 * The size a width × height image is shown at inside `box`, keeping its proportions and
 * never enlarged: given to the <img> as width/height so the row has its height before the
 * bytes arrive (no jump).
 */
export function thumbnailBox(width: number, height: number, box: { width: number; height: number } = THUMBNAIL_BOX): { width: number; height: number } {
  if (!(width > 0) || !(height > 0)) return { width: box.width, height: box.height };
  const scale = Math.min(1, box.width / width, box.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

const ARCHIVE = /^application\/(zip|gzip|x-tar|x-7z-compressed|x-rar-compressed|vnd\.rar|x-bzip2|x-xz|zstd)$/;
const TEXT_EXTENSIONS = /\.(txt|md|log|csv|json|ya?ml|toml|xml|ini|conf)$/i;

/** The card's icon: by the type the server detected, then by the name for plain text it can't tell. */
export function fileIcon(file: Pick<FileInfo, 'mime' | 'name'>): IconName {
  const { mime } = file;
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'film';
  if (mime.startsWith('audio/')) return 'music';
  if (ARCHIVE.test(mime)) return 'archive';
  if (mime.startsWith('text/') || mime === 'application/pdf' || mime === 'application/json' || TEXT_EXTENSIONS.test(file.name)) return 'fileText';
  return 'file';
}

/** Where the file's bytes are (inline for raster images, a download otherwise). */
export const fileUrl = (fileId: string) => `/api/v1/files/${encodeURIComponent(fileId)}`;
export const thumbnailUrl = (fileId: string) => `${fileUrl(fileId)}/thumbnail`;
