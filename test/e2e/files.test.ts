/**
 * Attachments in the browser (issue 16), two people in General: alice pastes a screenshot
 * (a PNG made in the page, on a real paste event) and bob sees its thumbnail load in a
 * box sized before it did, then opens it full size; alice attaches a text file with the
 * paperclip and bob downloads exactly its bytes; a file dropped on the room joins the tray;
 * a slow upload is cancelled; a file over FILE_MAX_MB shows the server's own message with
 * Retry and Remove. Saves the files-*.png screenshots for the README tour.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

const NOTES = 'Release checklist\n1. tag\n2. build\n3. announce — café ✓\n';

describe('files in the browser', { timeout: 120_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems = new Map<Page, string[]>();

  beforeAll(async () => {
    // 1 MiB, so the over-limit file stays small.
    server = await startServer({ FILE_MAX_MB: '1' });
    browser = await launchBrowser();
  });
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [page, seen] of problems) {
      const alerts = await page.getByRole('alert').allTextContents().catch(() => []);
      console.info(`[files e2e] ${page.url()} alerts=${JSON.stringify(alerts)} problems=${JSON.stringify(seen)}`);
    }
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url, acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    problems.set(page, watchForProblems(page));
    return { context, page };
  }

  const connected = (page: Page) => expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: 40_000 }).toBe('connected');
  const trayItems = (page: Page) => page.getByTestId('upload-item');
  const statuses = (page: Page) => trayItems(page).evaluateAll((items) => items.map((item) => item.getAttribute('data-status')));

  it('pastes an image that the other user sees as a thumbnail, attaches a file they download, and explains an upload over the limit', async () => {
    const { page: alice } = await newPage();
    const { page: bob } = await newPage();
    await registerThroughPage(alice, 'alice');
    await registerThroughPage(bob, 'bob');
    await connected(alice);
    await connected(bob);
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toContain('General');
    await expect.poll(() => bob.getByRole('heading', { level: 1 }).textContent()).toContain('General');

    // Bob's thumbnail is held back until the box it will fill has been measured.
    let releaseThumbnail = () => {};
    const thumbnailHeld = new Promise<void>((resolve) => (releaseThumbnail = resolve));
    await bob.route('**/api/v1/files/*/thumbnail', async (route) => {
      await thumbnailHeld;
      await route.continue();
    });

    // A screenshot on the clipboard: a 640×480 PNG drawn in the page, pasted into the box.
    const composer = alice.getByTestId('composer');
    await composer.click();
    await composer.evaluate(async (box) => {
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 480;
      const g = canvas.getContext('2d')!;
      const sky = g.createLinearGradient(0, 0, 640, 480);
      sky.addColorStop(0, '#0d6efd');
      sky.addColorStop(1, '#6f42c1');
      g.fillStyle = sky;
      g.fillRect(0, 0, 640, 480);
      g.fillStyle = '#ffffff';
      for (const [x, h] of [[80, 180], [200, 260], [320, 140], [440, 320]] as const) g.fillRect(x, 420 - h, 80, h);
      g.font = 'bold 36px sans-serif';
      g.fillText('Weekly signups', 40, 60);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
      const clipboard = new DataTransfer();
      clipboard.items.add(new File([blob], 'image.png', { type: 'image/png' }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: clipboard, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => statuses(alice)).toEqual(['done']);
    await composer.fill('signups this week');
    await composer.press('Enter');
    await expect.poll(() => trayItems(alice).count()).toBe(0);

    // Bob's thumbnail has its box (640×480 into 320×240) before it loads, so nothing moves when it does.
    const thumbnail = bob.getByTestId('attachment-thumbnail');
    await thumbnail.waitFor();
    expect(await thumbnail.getAttribute('width')).toBe('320');
    expect(await thumbnail.getAttribute('height')).toBe('240');
    expect(await thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(0);
    const before = await thumbnail.boundingBox();
    expect([before?.width, before?.height]).toEqual([320, 240]);
    releaseThumbnail();
    await expect.poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 20_000 }).toBe(true);
    expect(await thumbnail.boundingBox()).toEqual(before);
    expect(await bob.getByTestId('message').filter({ has: thumbnail }).getByTestId('message-body').textContent()).toBe('signups this week');

    // Alice attaches a text file with the paperclip and sends it with no text.
    await alice.getByTestId('attach-input').setInputFiles({ name: 'release-notes.txt', mimeType: 'text/plain', buffer: Buffer.from(NOTES) });
    await expect.poll(() => statuses(alice)).toEqual(['done']);
    await alice.getByTestId('send').click();

    // Bob sees the card (name as text, human size) and downloads the same bytes.
    const card = bob.getByTestId('attachment-file');
    await card.waitFor();
    expect(await card.getByTestId('attachment-name').textContent()).toBe('release-notes.txt');
    expect(await card.textContent()).toContain(`${Buffer.byteLength(NOTES)} B`);
    // The README's picture, taken with no hover toolbar showing.
    await bob.mouse.move(640, 700);
    await screenshot(bob, 'files-chat');
    const [download] = await Promise.all([bob.waitForEvent('download'), card.getByTestId('attachment-download').click()]);
    expect(readFileSync((await download.path())!)).toEqual(Buffer.from(NOTES));

    // Bob opens the image full size.
    await thumbnail.click();
    const full = bob.getByTestId('attachment-full');
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(640);
    await screenshot(bob, 'files-image-viewer');
    await bob.keyboard.press('Escape');
    await expect.poll(() => full.count()).toBe(0);

    // A file dropped on the room joins the tray; removed again.
    const dropped = await alice.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['a,b\n1,2\n'], 'numbers.csv', { type: 'text/csv' }));
      return transfer;
    });
    await alice.dispatchEvent('.chat-main', 'dragenter', { dataTransfer: dropped });
    expect(await alice.locator('.chat-main.drop-active').count()).toBe(1);
    await alice.dispatchEvent('.chat-main', 'drop', { dataTransfer: dropped });
    await expect.poll(() => trayItems(alice).filter({ hasText: 'numbers.csv' }).getAttribute('data-status')).toBe('done');
    expect(await alice.locator('.chat-main.drop-active').count()).toBe(0);
    await alice.getByTestId('upload-remove').click();
    await expect.poll(() => trayItems(alice).count()).toBe(0);

    // A slow upload shows its progress and can be cancelled (the network throttled to ~50 KB/s).
    const cdp = await alice.context().newCDPSession(alice);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 50_000 });
    await alice.getByTestId('attach-input').setInputFiles({ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(900_000, 7) });
    await expect.poll(() => alice.getByRole('progressbar').getAttribute('aria-valuenow').then(Number)).toBeGreaterThan(0);
    expect(await alice.getByTestId('send').isDisabled()).toBe(true);
    expect(await alice.getByTestId('composer-hint').textContent()).toMatch(/upload/i);
    await alice.getByTestId('upload-cancel').click();
    await expect.poll(() => trayItems(alice).count()).toBe(0);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    // Over FILE_MAX_MB: the tray shows the server's own message, with Retry and Remove.
    const big = Buffer.alloc(1.5 * 1024 * 1024, 1);
    const serverSays = await alice.evaluate(async (size) => {
      const { csrfToken } = (await (await fetch('/api/v1/auth/session')).json()) as { csrfToken: string };
      const roomId = location.pathname.split('/').pop()!;
      const form = new FormData();
      form.append('file', new File([new Uint8Array(size)], 'big.bin'));
      const answer = await fetch(`/api/v1/rooms/${roomId}/files`, { method: 'POST', body: form, headers: { 'X-CSRF-Token': csrfToken } });
      return { status: answer.status, message: ((await answer.json()) as { error: { message: string } }).error.message };
    }, big.length);
    expect(serverSays.status).toBe(413);
    let uploadsSent = 0;
    alice.on('request', (request) => {
      if (request.method() === 'POST' && /\/files$/.test(new URL(request.url()).pathname)) uploadsSent += 1;
    });
    await alice.getByTestId('attach-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big });
    await expect.poll(() => statuses(alice)).toEqual(['failed']);
    expect(await alice.getByTestId('upload-error').textContent()).toBe(serverSays.message);
    expect(await alice.getByTestId('send').isDisabled()).toBe(true);
    await screenshot(alice, 'files-upload-error');
    const attempts = uploadsSent;
    await alice.getByTestId('upload-retry').click();
    await expect.poll(() => uploadsSent).toBe(attempts + 1);
    await expect.poll(() => statuses(alice)).toEqual(['failed']);
    expect(await alice.getByTestId('upload-error').textContent()).toBe(serverSays.message);
    await alice.getByTestId('upload-remove').click();
    await expect.poll(() => trayItems(alice).count()).toBe(0);

    for (const seen of problems.values()) expect(seen.filter((p) => p.startsWith('pageerror') || p.startsWith('csp'))).toEqual([]);
  });
});
