import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { IMAGE_MAX_PIXELS, ImageRefusedError, ImageTooLargeError, ImageUnreadableError, INLINE_IMAGE_TYPES, prepareImage } from '../../src/server/files/images.js';
import { FILE_LIMITS } from '../../src/shared/file-shapes.js';
import { animatedGif, exifHasGps, gifWithComment, jpegWithExifMarker, pngOf } from '../support/images.js';

const MARKER = 'MARKER-exif-7f3a9c';

/** The colour of the pixel at (x, y) as [r, g, b]. */
async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const raw = await sharp(image).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer();
  return [...raw];
}

describe('prepareImage: metadata', () => {
  it('strips EXIF (the marker and the GPS position) from the stored JPEG', async () => {
    const input = await jpegWithExifMarker(MARKER);
    // The fixture really carries what must go.
    expect(input.includes(MARKER)).toBe(true);
    expect(exifHasGps((await sharp(input).metadata()).exif)).toBe(true);

    const prepared = await prepareImage(input, 'image/jpeg', { keepMetadata: false });
    expect(prepared).toBeDefined();
    const stored = prepared!.bytes;
    expect(stored.includes(MARKER)).toBe(false);
    const meta = await sharp(stored).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.iptc).toBeUndefined();
    expect(exifHasGps(meta.exif)).toBe(false);
    expect(prepared!.mime).toBe('image/jpeg');
  });

  it('applies the orientation to the pixels before stripping it, so the picture still looks right', async () => {
    const prepared = await prepareImage(await jpegWithExifMarker(MARKER), 'image/jpeg', { keepMetadata: false });
    // 64×32 with Orientation 6 is shown 32 wide, 64 high, its left (red) half on top.
    expect(prepared).toMatchObject({ width: 32, height: 64 });
    const meta = await sharp(prepared!.bytes).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([32, 64, undefined]);
    const [topR, , topB] = await pixel(prepared!.bytes, 16, 8);
    const [bottomR, , bottomB] = await pixel(prepared!.bytes, 16, 56);
    expect(topR).toBeGreaterThan(200);
    expect(topB).toBeLessThan(60);
    expect(bottomB).toBeGreaterThan(200);
    expect(bottomR).toBeLessThan(60);
  });

  it('keeps the bytes as uploaded, metadata and all, when the uploader keeps metadata', async () => {
    const input = await jpegWithExifMarker(MARKER);
    const prepared = await prepareImage(input, 'image/jpeg', { keepMetadata: true });
    expect(prepared).toBeDefined();
    expect(prepared!.bytes.equals(input)).toBe(true);
    expect(prepared!.bytes.includes(MARKER)).toBe(true);
    const meta = await sharp(prepared!.bytes).metadata();
    expect(exifHasGps(meta.exif)).toBe(true);
    expect(meta.orientation).toBe(6);
    // The dimensions are still those shown, after the orientation.
    expect(prepared).toMatchObject({ width: 32, height: 64, mime: 'image/jpeg' });
  });

  it('never puts metadata in the thumbnail, even when the original keeps it', async () => {
    const prepared = await prepareImage(await jpegWithExifMarker(MARKER), 'image/jpeg', { keepMetadata: true });
    const thumb = prepared!.thumbnail;
    expect(thumb.bytes.includes(MARKER)).toBe(false);
    const meta = await sharp(thumb.bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect([meta.width, meta.height]).toEqual([32, 64]);
    expect(thumb).toMatchObject({ width: 32, height: 64, mime: 'image/webp' });
  });

  it('strips EXIF from a PNG', async () => {
    const input = await sharp(await pngOf(40, 30))
      .withExif({ IFD0: { ImageDescription: MARKER } })
      .png()
      .toBuffer();
    expect(input.includes(MARKER)).toBe(true);
    const prepared = await prepareImage(input, 'image/png', { keepMetadata: false });
    expect(prepared).toMatchObject({ mime: 'image/png', width: 40, height: 30 });
    expect(prepared!.bytes.includes(MARKER)).toBe(false);
    expect((await sharp(prepared!.bytes).metadata()).exif).toBeUndefined();
  });
});

describe('prepareImage: animations', () => {
  it('re-encodes an animated GIF without its comment block, keeping every frame and delay', async () => {
    const input = gifWithComment(await animatedGif(30, 20, 3), MARKER);
    expect(input.includes(MARKER)).toBe(true);
    const prepared = await prepareImage(input, 'image/gif', { keepMetadata: false });
    expect(prepared).toMatchObject({ mime: 'image/gif', width: 30, height: 20 });
    expect(prepared!.bytes.includes(MARKER)).toBe(false);
    const meta = await sharp(prepared!.bytes, { animated: true }).metadata();
    expect(meta.format).toBe('gif');
    expect(meta.pages).toBe(3);
    expect(meta.pageHeight).toBe(20);
    expect(meta.delay).toEqual([100, 100, 100]);
    expect(meta.loop).toBe(0);
    // The frames stay distinct: the second is green.
    const second = await sharp(prepared!.bytes, { page: 1 }).png().toBuffer();
    const [r, g] = await pixel(second, 15, 10);
    expect(g).toBeGreaterThan(200);
    expect(r).toBeLessThan(60);
  });

  it('thumbnails the first frame of an animation as one still image', async () => {
    const prepared = await prepareImage(await animatedGif(30, 20, 3), 'image/gif', { keepMetadata: false });
    const meta = await sharp(prepared!.thumbnail.bytes, { animated: true }).metadata();
    expect(meta.pages ?? 1).toBe(1);
    expect(prepared!.thumbnail).toMatchObject({ width: 30, height: 20 });
    const [r, g] = await pixel(prepared!.thumbnail.bytes, 15, 10);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
  });
});

describe('prepareImage: thumbnails and types', () => {
  it('makes a thumbnail whose longest side is the limit, keeping the aspect ratio', async () => {
    const max = FILE_LIMITS.thumbnailMaxSide;
    const wide = await prepareImage(await pngOf(max * 4, max * 2), 'image/png', { keepMetadata: false });
    expect(wide).toMatchObject({ width: max * 4, height: max * 2 });
    expect(wide!.thumbnail).toMatchObject({ width: max, height: max / 2, mime: 'image/webp' });
    const meta = await sharp(wide!.thumbnail.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', max, max / 2]);

    const tall = await prepareImage(await pngOf(100, max * 3), 'image/png', { keepMetadata: false });
    expect(Math.max(tall!.thumbnail.width, tall!.thumbnail.height)).toBe(max);
  });

  it('never upscales a small image for its thumbnail', async () => {
    const prepared = await prepareImage(await pngOf(50, 20), 'image/png', { keepMetadata: false });
    expect(prepared!.thumbnail).toMatchObject({ width: 50, height: 20 });
  });

  it('handles WebP and AVIF in their own type', async () => {
    const source = sharp(await pngOf(48, 36));
    for (const [mime, bytes] of [
      ['image/webp', await source.clone().webp().toBuffer()],
      ['image/avif', await source.clone().avif().toBuffer()],
    ] as const) {
      const prepared = await prepareImage(bytes, mime, { keepMetadata: false });
      expect(prepared, mime).toMatchObject({ mime, width: 48, height: 36 });
      expect((await sharp(prepared!.bytes).metadata()).format).toBe(mime === 'image/avif' ? 'heif' : 'webp');
    }
  });

  it('shows raster types inline, never SVG', () => {
    expect([...INLINE_IMAGE_TYPES].sort()).toEqual(['image/avif', 'image/gif', 'image/jpeg', 'image/png', 'image/webp']);
    expect(INLINE_IMAGE_TYPES.has('image/svg+xml')).toBe(false);
  });

  it('answers undefined for a non-image type, SVG included', async () => {
    expect(await prepareImage(Buffer.from('hello, world\n'), 'text/plain', { keepMetadata: false })).toBeUndefined();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    expect(await prepareImage(svg, 'image/svg+xml', { keepMetadata: false })).toBeUndefined();
    expect(await prepareImage(await pngOf(10, 10), 'application/pdf', { keepMetadata: false })).toBeUndefined();
  });

  it('refuses bytes it cannot decode as their type (their metadata could not be removed), and keeps them as a plain file when metadata is kept', async () => {
    const truncatedJpeg = (await jpegWithExifMarker('secret-place')).subarray(0, 400);
    const unreadable = [Buffer.from('not a picture at all'), await pngOf(10, 10), (await pngOf(200, 200)).subarray(0, 40), truncatedJpeg];
    const types = ['image/png', 'image/jpeg', 'image/png', 'image/jpeg'];
    for (const [i, bytes] of unreadable.entries()) {
      const refusal = await prepareImage(bytes, types[i]!, { keepMetadata: false }).catch((error: unknown) => error);
      expect(refusal, `case ${i}`).toBeInstanceOf(ImageUnreadableError);
      expect(refusal).toBeInstanceOf(ImageRefusedError);
      expect((refusal as Error).message).toMatch(/metadata \(such as where it was taken\) could not be removed/);
      expect(await prepareImage(bytes, types[i]!, { keepMetadata: true }), `case ${i}`).toBeUndefined();
    }
  });
});

describe('prepareImage: decompression bombs', () => {
  it(`refuses an image of more than ${IMAGE_MAX_PIXELS / 1e6} megapixels without decoding it (a plain file only if its metadata is kept)`, async () => {
    // 60 megapixels of one colour: under 200 kB on disk, 180 MB once decoded.
    const bomb = await sharp({ create: { width: 10_000, height: 6_000, channels: 3, background: '#ffffff' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    // A valid PNG that sharp would read without the limit.
    const unlimited = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect([unlimited.format, unlimited.width, unlimited.height]).toEqual(['png', 10_000, 6_000]);

    // Its metadata cannot be stripped without decoding it: refused, with a message for the uploader.
    const refusal = await prepareImage(bomb, 'image/png', { keepMetadata: false }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ImageTooLargeError);
    expect((refusal as Error).message).toBe('This image has 60 megapixels; at most 50 can be processed. Send a smaller one, or zipped.');
    // Kept with its metadata, as the uploader asked: stored as a plain file, never decoded.
    expect(await prepareImage(bomb, 'image/png', { keepMetadata: true })).toBeUndefined();
  });

  it('counts every frame of an animation against the limit', async () => {
    // 12 frames of 2000×2500 = 60 megapixels in all, each frame well under the limit.
    // Frames alternate by one pixel, so the encoder stores the later ones as tiny deltas.
    const frames = 12;
    const plain = await pngOf(2000, 2500);
    const dot = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    const dotted = await sharp(plain).composite([{ input: dot, left: 5, top: 5 }]).png().toBuffer();
    const pages = Array.from({ length: frames }, (_, i) => (i % 2 === 0 ? plain : dotted));
    const bomb = await sharp(pages, { join: { animated: true }, limitInputPixels: false })
      .gif({ effort: 1 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(100_000);
    expect(2000 * 2500).toBeLessThan(IMAGE_MAX_PIXELS);
    const unlimited = await sharp(bomb, { animated: true, limitInputPixels: false }).metadata();
    expect([unlimited.format, unlimited.pages, unlimited.pageHeight]).toEqual(['gif', frames, 2500]);
    await expect(prepareImage(bomb, 'image/gif', { keepMetadata: false })).rejects.toBeInstanceOf(ImageTooLargeError);
  });
});
