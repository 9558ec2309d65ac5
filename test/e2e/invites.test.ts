/**
 * Invite links in a real browser: the owner makes a link with a use limit and
 * an expiry, sees it listed with its uses, revokes it, and a visitor holding the revoked
 * link is told so and stays out. Saves the screenshot of the dialog for the README.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

const ROOM = 'Project Kestrel';

describe('invite links in the browser', { timeout: 60_000 }, () => {
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

  const items = (page: Page) => page.getByRole('dialog').getByTestId('invite-item');
  // Sorted: the server's test clock stands still, so both links have the same creation time.
  const details = async (page: Page) => (await page.getByRole('dialog').getByTestId('invite-details').allTextContents()).sort();

  let owner: Page;
  let limitedLink: string;

  it('makes a link with a use limit and an expiry, and lists it with its uses', async () => {
    owner = await newPage();
    await registerThroughPage(owner, 'olivia');
    await owner.getByRole('button', { name: 'Create room' }).first().click();
    const create = owner.getByRole('dialog');
    await create.locator('input[name="name"]').fill(ROOM);
    await create.locator('input[name="isPrivate"]').check();
    await create.getByRole('button', { name: 'Create room' }).click();
    await expect.poll(() => owner.getByRole('heading', { level: 1 }).textContent()).toContain(ROOM);
    const roomPath = new URL(owner.url()).pathname;

    await owner.getByRole('button', { name: /invite/i }).click();
    const dialog = owner.getByRole('dialog');
    await expect.poll(() => dialog.textContent()).toContain('No active links.');
    await dialog.getByLabel('Expires after').selectOption({ label: '1 day' });
    await dialog.getByLabel('Use limit').fill('3');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    limitedLink = await dialog.getByTestId('invite-link').inputValue();
    expect(limitedLink).toMatch(/\/invite\/[A-Za-z0-9_-]+$/);
    await expect.poll(() => details(owner)).toEqual([expect.stringMatching(/^0 of 3 uses · expires /)]);
    await owner.keyboard.press('Escape');
    await expect.poll(() => owner.getByRole('dialog').count()).toBe(0);

    // Someone uses it: the list counts the use.
    const guest = await newPage();
    await registerThroughPage(guest, 'gustav');
    await guest.goto(new URL(limitedLink).pathname);
    await guest.getByRole('button', { name: 'Join' }).click();
    await guest.waitForURL(`**${roomPath}`);

    await owner.getByRole('button', { name: /invite/i }).click();
    await expect.poll(() => details(owner)).toEqual([expect.stringMatching(/^1 of 3 uses · expires /)]);
    // A second link, with no limit and the default week.
    await owner.getByRole('dialog').getByRole('button', { name: 'Create link' }).click();
    await expect.poll(() => details(owner)).toEqual([expect.stringMatching(/^0 uses, no limit · expires /), expect.stringMatching(/^1 of 3 uses · expires /)]);
    await screenshot(owner, 'invite-links');
  });

  it('revokes the limited link; a visitor holding it is refused clearly and stays out', async () => {
    await items(owner).filter({ hasText: '1 of 3 uses' }).getByRole('button', { name: /^Revoke the link by olivia/ }).click();
    await expect.poll(() => details(owner)).toEqual([expect.stringMatching(/^0 uses, no limit/)]);
    expect(await items(owner).count()).toBe(1);

    const visitor = await newPage();
    await registerThroughPage(visitor, 'vera');
    await visitor.goto(new URL(limitedLink).pathname);
    await visitor.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => visitor.getByRole('alert').textContent()).toContain('This invite link was revoked; ask for a new one.');
    const rooms = await visitor.getByTestId('room-item').evaluateAll((n) => n.map((e) => e.getAttribute('data-room-name')));
    expect(rooms).not.toContain(ROOM);
  });

  it('ran without script errors or CSP violations', () => {
    expect(problems.flat()).toEqual([]);
  });
});
