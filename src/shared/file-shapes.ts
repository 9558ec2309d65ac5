/**
 * Attachments: the file shape on the wire and the limits both sides use.
 * A file belongs to one room; a message names it in `attachments`.
 */
import { Type, type Static } from 'typebox';

export const FileSchema = Type.Object({
  id: Type.String(),
  name: Type.String({ description: 'The sanitised file name (no folders, control or bidi characters).' }),
  size: Type.Integer({ minimum: 0, description: 'Bytes.' }),
  mime: Type.String({ description: 'The type detected from the bytes (application/octet-stream when unknown).' }),
  width: Type.Optional(Type.Integer({ minimum: 1, description: 'Raster images: pixels.' })),
  height: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type FileInfo = Static<typeof FileSchema>;

export const FILE_LIMITS = {
  /** Files one message may carry. */
  attachmentsPerMessageMax: 10,
  /** The longest name kept (UTF-16 units); longer names are shortened, keeping the extension. */
  nameMax: 200,
  /** Plaintext bytes per encrypted chunk. */
  chunkBytes: 64 * 1024,
  /** The longest side of a thumbnail, in pixels. */
  thumbnailMaxSide: 360,
} as const;
