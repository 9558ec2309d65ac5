/**
 * Managing rooms in a real browser: an invite link opened signed out names the room and
 * who invited; creating an account returns to it and joins; a second device ending the
 * session sends the first to the login page with a notice. Saves docs/screenshots/invite-page.png.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, logIn, signUp, TEST_PASSWORD } from '../support/app.js';
import { createInvite, createRoom } from '../support/factories.js';
import { launchBrowser, screenshot, startServer, watchForProblems } from './browser.js';

describe('room management in the browser', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    return { page, problems: watchForProblems(page) };
  }

  it('shows a signed-out visitor who invited them to which room; creating an account comes back and joins', async () => {
    const owner = await signUp(server.app, 'priya');
    const room = await createRoom(server.app, owner, { name: 'Lighthouse crew', isPrivate: true });
    const invite = await createInvite(server.app, owner, room.id);
    const { page, problems } = await newPage();

    await page.goto(`/invite/${invite.code}`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('priya invited you to Lighthouse crew');
    await mkdir('docs/screenshots', { recursive: true });
    await copyFile(await screenshot(page, 'invite-page'), 'docs/screenshots/invite-page.png');

    await page.getByRole('link', { name: 'Create account to join' }).click();
    await page.locator('input[name="username"]').fill('quentin');
    await page.locator('input[name="email"]').fill('quentin@example.com');
    await page.locator('input[name="password"]').fill(TEST_PASSWORD);
    await page.locator('input[name="confirmPassword"]').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/invite\//);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForURL(new RegExp(`/chat/${room.id}`));
    const members = await server.app.inject({ method: 'GET', url: `/api/v1/rooms/${room.id}/members`, headers: as(owner) });
    expect((members.json() as Array<{ user: { username: string } }>).map((m) => m.user.username).sort()).toEqual(['priya', 'quentin']);
    expect(problems).toEqual([]);
  });

  it('tells the first device why it was signed out when a second one ends its session', async () => {
    const { page } = await newPage();
    await page.goto('/login');
    await page.locator('input[name="username"]').fill('quentin');
    await page.locator('input[name="password"]').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/chat/);

    const second = await logIn(server.app, 'quentin');
    const sessions = (await server.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: as(second) })).json() as Array<{ id: string; current: boolean }>;
    for (const session of sessions.filter((s) => !s.current)) {
      const ended = await server.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${session.id}`, headers: as(second) });
      expect(ended.statusCode).toBe(204);
    }
    await page.waitForURL(/\/login/);
    await expect.poll(() => page.getByTestId('signed-out-notice').textContent()).toMatch(/ended from another device, or your password was changed/);
  });
});
