/**
 * Logging out in a real browser: the answer's Clear-Site-Data drops this site's cookies
 * and storage, and the client keeps only the theme the person chose.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, startServer } from './browser.js';

describe('logout in the browser', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('clears the cookies and storage, and keeps the theme', async () => {
    // A system that prefers dark, so choosing light is a choice that must be remembered.
    const context = await browser.newContext({ baseURL: server.url, colorScheme: 'dark' });
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      await registerThroughPage(page, `leaver_${Date.now().toString(36)}`);
      await page.getByTitle('Switch to light theme').click();
      await page.evaluate(() => localStorage.setItem('probe', 'left behind'));
      expect((await context.cookies()).map((cookie) => cookie.name)).toContain('securechat_session');

      await page.goto('/settings');
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(/\/login/);

      await expect.poll(async () => (await context.cookies()).map((cookie) => cookie.name)).toEqual([]);
      await expect.poll(() => page.evaluate(() => localStorage.getItem('probe'))).toBeNull();
      expect(await page.evaluate(() => localStorage.getItem('securechat.theme'))).toBe('light');
      expect(await page.locator('html').getAttribute('data-bs-theme')).toBe('light');
    } finally {
      await context.close();
    }
  });
});
