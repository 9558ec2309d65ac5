/**
 * Direct messages in a real browser, two people in two browser contexts: alice starts a DM
 * with bob from the "New message" dialog (searching him by name) and writes; bob, already
 * on the chat screen, sees the DM appear in his sidebar's Direct messages section without a
 * reload, opens it and reads the message. Saves the screenshot for the README.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

describe('direct messages in the browser', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[][] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    problems.push(watchForProblems(page));
    return page;
  }

  it('alice starts a DM with bob via New message; bob sees it appear and reads the message', async () => {
    const bob = await newPage();
    await registerThroughPage(bob, 'bob');
    const alice = await newPage();
    await registerThroughPage(alice, 'alice');

    await alice.getByRole('button', { name: 'New message' }).first().click();
    const dialog = alice.getByRole('dialog');
    await dialog.getByLabel('People').fill('BO');
    await dialog.getByTestId('dm-results').getByRole('button', { name: /bob/ }).click();
    await expect.poll(() => dialog.getByTestId('dm-picked').textContent()).toContain('bob');
    await dialog.getByRole('button', { name: 'Start conversation' }).click();
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toContain('bob');
    expect(await alice.getByRole('button', { name: /invite/i }).count()).toBe(0);

    const text = 'Hi bob, a word in private';
    await alice.getByTestId('composer').fill(text);
    await alice.getByTestId('composer').press('Enter');

    // Bob never reloads: the DM arrives over the socket (`dm` frame).
    const bobsDm = bob.getByTestId('dm-list').getByTestId('dm-item');
    await expect.poll(() => bobsDm.allTextContents()).toEqual([expect.stringContaining('alice')]);
    // 1:1: alice's presence dot, online.
    await expect.poll(() => bobsDm.locator('[data-online]').getAttribute('data-online')).toBe('true');
    await bobsDm.first().click();
    await expect.poll(() => bob.getByRole('heading', { level: 1 }).textContent()).toContain('alice');
    await expect.poll(() => bob.locator('.chat-main').textContent()).toContain(text);

    const file = await screenshot(bob, 'dm');
    mkdirSync('docs/screenshots', { recursive: true });
    copyFileSync(file, 'docs/screenshots/direct-messages.png');
    expect(problems.flat()).toEqual([]);
  });
});
