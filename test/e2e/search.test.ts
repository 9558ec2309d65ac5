/**
 * Message search in Chromium (issue 17): alice's General holds a message with a
 * distinctive word far above the newest page (160 messages after it). She opens search
 * with the keyboard, finds it accent-insensitively ("cafe" finds "Café") with the matched
 * words marked, narrows by room and by person, is told what a bad filter means, and opens
 * the result: General scrolls to the message (loaded from older history) and marks it, and
 * the room then goes on as usual. Saves the README tour's docs/screenshots/search.png.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

const FILLERS = 160;

describe('message search in the browser', { timeout: 120_000 }, () => {
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

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url, colorScheme: 'light' });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    return context.newPage();
  }

  /** Posts a message as the page's user (a minute after the one before) and answers its seq. */
  async function post(target: Page, roomId: string, body: string): Promise<number> {
    server.clock.advance(60_000);
    const { message } = await apiAs<{ message: { seq: number } }>(target, 'POST', `/rooms/${roomId}/messages`, { body, clientId: crypto.randomUUID() });
    return message.seq;
  }

  const connected = (page: Page) => expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: 40_000 }).toBe('connected');
  const results = (page: Page) => page.getByTestId('search-result');
  const marks = (page: Page) => results(page).locator('mark').allTextContents();

  it('finds an old message accent-insensitively, narrows by room and person, and opens it in context', async () => {
    const alice = await newPage();
    const bob = await newPage();
    const problems = [...watchForProblems(alice), ...watchForProblems(bob)];
    await registerThroughPage(alice, 'alice');
    await registerThroughPage(bob, 'bob');

    const rooms = await apiAs<Array<{ id: string; name: string }>>(alice, 'GET', '/rooms');
    const generalId = rooms.find((room) => room.name === 'General')!.id;
    const { room: design } = await apiAs<{ room: { id: string } }>(alice, 'POST', '/rooms', { name: 'design' });
    const targetSeq = await post(alice, generalId, 'Lunch at the Café Zebrine on Friday, who is in?');
    await post(bob, generalId, 'The cafe downstairs is closed this week');
    await post(alice, design.id, 'Café colours for the design review');
    for (let n = 1; n <= FILLERS; n += 1) await post(alice, generalId, `status update ${n}`);

    // A fresh load holds only the newest page of General: the target is far above it.
    await alice.goto(`/chat/${generalId}`);
    await connected(alice);
    await expect.poll(() => alice.getByTestId('message-body').last().textContent()).toBe(`status update ${FILLERS}`);
    expect(await alice.locator(`[data-testid="message"][data-seq="${targetSeq}"]`).count()).toBe(0);

    // Ctrl+K opens search; Escape closes it; `/` opens it when no text field has the focus.
    await alice.keyboard.press('Control+k');
    const dialog = alice.getByRole('dialog', { name: 'Search messages' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await alice.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    await alice.getByRole('region', { name: 'Messages', exact: true }).focus();
    await alice.keyboard.press('/');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const input = dialog.getByRole('combobox', { name: 'Search messages' });
    await expect.poll(() => input.evaluate((element) => element === document.activeElement)).toBe(true);

    // The last word is a prefix; the whole matched word is marked.
    await input.pressSequentially('zebr');
    await expect.poll(() => marks(alice)).toEqual(['Zebrine']);
    // "cafe" finds "Café" and "cafe", newest first, with room, sender and the words marked.
    await input.fill('cafe');
    await expect.poll(() => results(alice).count()).toBe(3);
    expect(await results(alice).getByTestId('search-result-room').allTextContents()).toEqual(['design', 'General', 'General']);
    expect(await results(alice).getByTestId('search-result-sender').allTextContents()).toEqual(['alice', 'bob', 'alice']);
    expect(await marks(alice)).toEqual(['Café', 'cafe', 'Café']);
    // The README tour's picture (as dms.test.ts keeps its own current).
    const file = await screenshot(alice, 'search');
    mkdirSync('docs/screenshots', { recursive: true });
    copyFileSync(file, 'docs/screenshots/search.png');

    // The room filter and the person filter narrow the results.
    await dialog.getByLabel('In').selectOption({ label: 'design' });
    await expect.poll(() => results(alice).getByTestId('search-result-body').allTextContents()).toEqual(['Café colours for the design review']);
    await dialog.getByLabel('In').selectOption({ label: 'All rooms and DMs' });
    await dialog.getByLabel('From').fill('bob');
    await expect.poll(() => results(alice).getByTestId('search-result-body').allTextContents()).toEqual(['The cafe downstairs is closed this week']);
    await dialog.getByLabel('From').fill('nobody');
    await expect.poll(() => dialog.getByTestId('search-status').textContent()).toBe('No messages found.');
    await dialog.getByLabel('From').fill('');
    // Ctrl+K again, in the dialog, goes back to its search box.
    await alice.keyboard.press('Control+k');
    await expect.poll(() => input.evaluate((element) => element === document.activeElement)).toBe(true);

    // A filter the server cannot read: its 400 says how to write it.
    await input.fill('has:photo');
    await expect.poll(() => dialog.getByTestId('search-error').textContent()).toContain('has: takes only "file"');

    // Twenty at a time, newest first; "Load more" brings the next twenty.
    await input.fill('status');
    await expect.poll(() => results(alice).count()).toBe(20);
    expect(await results(alice).first().getByTestId('search-result-body').textContent()).toBe(`status update ${FILLERS}`);
    await dialog.getByTestId('search-load-more').click();
    await expect.poll(() => results(alice).count()).toBe(40);
    expect(await results(alice).last().getByTestId('search-result-body').textContent()).toBe(`status update ${FILLERS - 39}`);

    // The arrow keys move through the results; Enter opens the one chosen.
    await input.fill('cafe');
    await expect.poll(() => results(alice).count()).toBe(3);
    await input.press('ArrowDown');
    await input.press('ArrowDown');
    await input.press('ArrowDown');
    await expect.poll(() => results(alice).nth(2).getAttribute('aria-selected')).toBe('true');
    expect(await input.getAttribute('aria-activedescendant')).toBe(await results(alice).nth(2).getAttribute('id'));
    await input.press('Enter');
    await expect.poll(() => dialog.count()).toBe(0);

    // General shows the message in context, in view and marked.
    const target = alice.locator(`[data-testid="message"][data-seq="${targetSeq}"]`);
    await expect.poll(() => target.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => target.getAttribute('class')).toContain('message--found');
    await expect.poll(() => inView(alice, target)).toBe(true);
    expect(await target.getByTestId('message-body').textContent()).toBe('Lunch at the Café Zebrine on Friday, who is in?');
    expect(new URL(alice.url()).pathname).toBe(`/chat/${generalId}`);
    await screenshot(alice, 'search-found');

    // The room goes on: her new message and bob's arrive, and the history between is whole.
    await alice.getByTestId('composer').fill('found it, see you there');
    await alice.getByTestId('composer').press('Enter');
    await post(bob, generalId, 'great, booked a table');
    const bodies = () => alice.getByTestId('message-body').allTextContents();
    await expect.poll(async () => (await bodies()).slice(-2)).toEqual(['found it, see you there', 'great, booked a table']);
    const seqs = await alice.getByTestId('message').evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => seqs[0]! + index));
    expect(seqs[0]).toBeLessThanOrEqual(targetSeq);
    expect(problems).toEqual([]);
  });

  it('says so when the server cannot search (503), and asks nothing for an empty box', async () => {
    const off = await startServer({ SEARCH_INDEX: 'off' });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: off.url });
      contexts.push(context);
      const carol = await context.newPage();
      await registerThroughPage(carol, 'carol');
      const searches: string[] = [];
      carol.on('request', (request) => request.url().includes('/api/v1/search') && searches.push(request.url()));
      await carol.getByTestId('search-button').click();
      const dialog = carol.getByRole('dialog', { name: 'Search messages' });
      await dialog.getByLabel('From').fill(' ');
      await expect.poll(() => dialog.getByTestId('search-status').textContent()).toContain('Filters: from:name');
      expect(searches).toEqual([]);
      await dialog.getByRole('combobox', { name: 'Search messages' }).fill('hello');
      await expect.poll(() => dialog.getByTestId('search-error').textContent()).toContain('Search is turned off on this server');
      expect(await dialog.getByTestId('search-result').count()).toBe(0);

      // On a phone the header keeps its search button, and nothing overflows sideways.
      const phoneContext = await browser.newContext({ viewport: { width: 375, height: 700 }, baseURL: off.url, storageState: await context.storageState() });
      contexts.push(phoneContext);
      const phone = await phoneContext.newPage();
      await phone.goto('/chat');
      const button = phone.getByRole('button', { name: 'Search messages' });
      await expect.poll(() => button.isVisible()).toBe(true);
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await button.click();
      await expect.poll(() => phone.getByRole('dialog', { name: 'Search messages' }).isVisible()).toBe(true);
      await screenshot(phone, 'search-375px');
    } finally {
      await off.close();
    }
  });
});

/** Whether the element lies inside the visible part of the message list. */
function inView(page: Page, element: ReturnType<Page['locator']>): Promise<boolean> {
  return element.evaluate((node) => {
    const scroller = node.closest('.message-scroller')!.getBoundingClientRect();
    const box = node.getBoundingClientRect();
    return box.top >= scroller.top && box.bottom <= scroller.bottom;
  });
}
