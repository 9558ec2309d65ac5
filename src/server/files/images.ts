/**
 * The image step of an upload: what is stored for a raster image (metadata stripped
 * unless the uploader keeps it) and its thumbnail. Pure: bytes in, bytes out.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { FILE_LIMITS } from '../../shared/file-shapes.js';
import { INLINE_IMAGE_TYPES } from './file-types.js';

export interface PreparedImage {
  /** What is stored: metadata stripped unless keepMetadata. */
  bytes: Buffer;
  /** The stored type (the input type, e.g. image/jpeg). */
  mime: string;
  /** After EXIF orientation is applied. */
  width: number;
  height: number;
  /** Longest side ≤ FILE_LIMITS.thumbnailMaxSide, never upscaled. */
  thumbnail: { bytes: Buffer; mime: string; width: number; height: number };
}

/** The decoder sharp reports for each type we show inline (avif is sharp's heif loader with av1). */
const DECODER: Record<string, keyof sharp.FormatEnum> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'heif',
};

// Every type shown inline (file-types.ts) has its decoder here; never svg (it can carry script).
export { INLINE_IMAGE_TYPES };

/**
 * Decompression bombs: an image whose header claims more pixels than this (all frames of
 * an animation counted) is never decoded. Its metadata cannot be stripped then, so
 * prepareImage throws ImageTooLargeError (the upload is refused) — unless the uploader
 * keeps metadata: then it answers undefined and the upload is kept as a plain file.
 */
export const IMAGE_MAX_PIXELS = 50_000_000;

/** An image whose metadata was to be stripped but cannot be: the upload is refused with this message. */
export class ImageRefusedError extends Error {
  override readonly name: string = 'ImageRefusedError';
}

/** Bytes of a detected image type that sharp cannot decode: kept as they are, they could carry a location. */
export class ImageUnreadableError extends ImageRefusedError {
  override readonly name = 'ImageUnreadableError';
  constructor() {
    super('This image could not be read, so its metadata (such as where it was taken) could not be removed. Send it as another format, or zipped.');
  }
}

/** An image over IMAGE_MAX_PIXELS whose metadata was to be stripped: refuse the upload with this message. */
export class ImageTooLargeError extends ImageRefusedError {
  override readonly name = 'ImageTooLargeError';
  constructor(readonly pixels: number) {
    super(`This image has ${Math.round(pixels / 1e6)} megapixels; at most ${IMAGE_MAX_PIXELS / 1e6} can be processed. Send a smaller one, or zipped.`);
  }
}

/** A bound on one image's work, so a pathological file cannot hold a libuv thread for long. */
const SHARP_TIMEOUT_SECONDS = 20;

const THUMBNAIL_MIME = 'image/webp';

/**
 * For a detected raster image type: the stored bytes and a thumbnail; undefined for a
 * non-image type. Bytes sharp cannot decode as that type throw ImageUnreadableError, over
 * IMAGE_MAX_PIXELS ImageTooLargeError — or, when the uploader keeps metadata, undefined
 * (the upload is then kept as a plain file, as it came).
 */
export async function prepareImage(
  input: Buffer,
  mime: string,
  options: { keepMetadata: boolean },
): Promise<PreparedImage | undefined> {
  const decoder = DECODER[mime];
  if (decoder === undefined) return undefined;
  let meta: Metadata;
  try {
    // The header only (no pixels decoded yet), read without the limit so a bomb is told from damage.
    meta = await sharp(input, { animated: true, limitInputPixels: false }).metadata();
  } catch {
    return unreadable(options);
  }
  if (meta.format !== decoder || (mime === 'image/avif' && meta.compression !== 'av1')) return unreadable(options);
  const pixels = meta.width * meta.height; // with animated: true, height covers every frame
  if (pixels > IMAGE_MAX_PIXELS) {
    if (options.keepMetadata) return undefined;
    throw new ImageTooLargeError(pixels);
  }
  try {
    const animated = (meta.pages ?? 1) > 1 && (mime === 'image/gif' || mime === 'image/webp');
    const stored = options.keepMetadata
      ? { bytes: input, ...orientedSize(meta, animated) }
      : await stripped(input, mime, meta, animated);
    const thumbnail = await thumbnailOf(input);
    return { bytes: stored.bytes, mime, width: stored.width, height: stored.height, thumbnail };
  } catch {
    // Undecodable, truncated or too slow.
    return unreadable(options);
  }
}

function unreadable(options: { keepMetadata: boolean }): undefined {
  if (options.keepMetadata) return undefined;
  throw new ImageUnreadableError();
}

function open(input: Buffer, animated: boolean): Sharp {
  // failOn 'error' (not the default 'warning'): phones write slightly odd JPEGs that still decode.
  return sharp(input, { animated, limitInputPixels: IMAGE_MAX_PIXELS, failOn: 'error' }).timeout({
    seconds: SHARP_TIMEOUT_SECONDS,
  });
}

function orientedSize(meta: Metadata, animated: boolean): { width: number; height: number } {
  // Animations are not rotated by viewers; their frame height is pageHeight.
  if (animated) return { width: meta.width, height: meta.pageHeight ?? meta.height };
  return { width: meta.autoOrient.width, height: meta.autoOrient.height };
}

/**
 * Re-encoded in the same type with the orientation applied to the pixels, so sharp's
 * default output (no EXIF, XMP, IPTC, comments or ICC; colours converted to sRGB) loses
 * nothing the eye sees. Always re-encoded, even when the metadata looks empty: libvips
 * does not report every place a format can hide text (JPEG COM, GIF comment blocks).
 * Animated GIF and WebP keep their frames, delays and loop count; GIF reuses its palette.
 */
async function stripped(
  input: Buffer,
  mime: string,
  meta: Metadata,
  animated: boolean,
): Promise<{ bytes: Buffer; width: number; height: number }> {
  let image = open(input, animated);
  if (!animated) image = image.autoOrient();
  switch (mime) {
    case 'image/jpeg':
      image = image.jpeg({ quality: 90, chromaSubsampling: meta.chromaSubsampling === '4:4:4' ? '4:4:4' : '4:2:0' });
      break;
    case 'image/png':
      image = image.png({ palette: meta.isPalette });
      break;
    case 'image/gif':
      image = image.gif({ reuse: true });
      break;
    case 'image/webp':
      image = image.webp({ quality: 90 });
      break;
    default:
      image = image.avif({ quality: 60 });
  }
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  return { bytes: data, width: info.width, height: animated ? (info.pageHeight ?? info.height) : info.height };
}

/** The first frame, oriented, longest side at most thumbnailMaxSide; never upscaled. */
async function thumbnailOf(input: Buffer): Promise<PreparedImage['thumbnail']> {
  const side = FILE_LIMITS.thumbnailMaxSide;
  const { data, info } = await open(input, false)
    .autoOrient()
    .resize(side, side, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer({ resolveWithObject: true });
  return { bytes: data, mime: THUMBNAIL_MIME, width: info.width, height: info.height };
}
