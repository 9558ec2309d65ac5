/**
 * Real images for tests, made with sharp: a JPEG whose EXIF carries a marker string and
 * a GPS position (for the metadata strip and the at-rest scan), plain PNGs, animations.
 */
import sharp from 'sharp';

/** The GPS position written by jpegWithExifMarker (the Eiffel tower). */
export const TEST_GPS = {
  GPSLatitudeRef: 'N',
  GPSLatitude: '48/1 51/1 2981/100',
  GPSLongitudeRef: 'E',
  GPSLongitude: '2/1 17/1 4019/100',
};

/**
 * A 64×32 JPEG (red on the left, blue on the right) whose EXIF holds `marker` in
 * ImageDescription and Artist, a GPS position, and Orientation 6 (shown rotated 90°
 * clockwise: 32 wide, 64 high).
 */
export async function jpegWithExifMarker(marker: string): Promise<Buffer> {
  const left = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 64, height: 32, channels: 3, background: '#0000ff' } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({ IFD0: { ImageDescription: marker, Artist: marker }, IFD3: TEST_GPS })
    .toBuffer();
}

/** An opaque grey PNG of that size, no metadata. */
export async function pngOf(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
}

/** An animated GIF of `frames` frames (red, green, blue, …), 100 ms apart, looping forever. */
export async function animatedGif(width: number, height: number, frames = 3): Promise<Buffer> {
  const colours = ['#ff0000', '#00ff00', '#0000ff', '#ffff00'];
  const pages = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 4, background: colours[i % colours.length] ?? '#000000' } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(pages, { join: { animated: true } })
    .gif({ delay: pages.map(() => 100), loop: 0 })
    .toBuffer();
}

/** The GIF with a comment extension block holding `text` (libvips does not report these). */
export function gifWithComment(gif: Buffer, text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > 255 || gif[gif.length - 1] !== 0x3b) throw new Error('gifWithComment: short text, whole GIF');
  // A comment block may stand anywhere between blocks: put it just before the trailer.
  return Buffer.concat([gif.subarray(0, -1), Buffer.from([0x21, 0xfe, bytes.length]), bytes, Buffer.from([0, 0x3b])]);
}

/** Whether EXIF (as sharp's metadata().exif gives it) points to a GPS directory (tag 0x8825 in IFD0). */
export function exifHasGps(exif: Buffer | undefined): boolean {
  if (exif === undefined) return false;
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const little = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd0 = u32(4);
  const entries = u16(ifd0);
  for (let i = 0; i < entries; i += 1) {
    if (u16(ifd0 + 2 + i * 12) === 0x8825) return true;
  }
  return false;
}
