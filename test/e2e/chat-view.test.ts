/**
 * The chat view a team can live in, in Chromium: Markdown with a code block and its Copy
 * button, messages grouped by sender, the "new messages" divider, drafts that survive a
 * room switch and a reload, and a message written offline that is sent exactly once when
 * the network is back. Saves the desktop and 375 px screenshots for the README.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

const CODE = 'const ok = a < b && c > d;\nconsole.log(`<b>${ok}</b>`, "a line longer than a phone is wide, so it scrolls");';
const MARKDOWN = [
  'Release **checklist** for *today*, ~~Friday~~:',
  '> ship it when the tests are green',
  '',
  '- run `npm test`',
  '- tag the build',
  '',
  '```ts',
  CODE,
  '```',
].join('\n');

describe('the chat view in the browser', { timeout: 90_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await newContext({ width: 1280, height: 800 });
    page = await context.newPage();
    problems = watchForProblems(page);
  });
  afterAll(async () => {
    for (const each of contexts) await each.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  async function newContext(
    viewport: { width: number; height: number },
    options: { storageState?: Awaited<ReturnType<BrowserContext['storageState']>>; colorScheme?: 'light' | 'dark' } = {},
  ) {
    const created = await browser.newContext({ viewport, baseURL: server.url, colorScheme: options.colorScheme ?? 'light', storageState: options.storageState });
    // The Copy button writes to the clipboard; the test reads it back.
    await created.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    created.setDefaultTimeout(15_000);
    contexts.push(created);
    return created;
  }

  async function send(target: Page, text: string): Promise<void> {
    await target.getByTestId('composer').fill(text);
    await target.getByTestId('send').click();
  }

  const composer = () => page.getByTestId('composer');
  let bob: Page;
  let generalId = '';
  let otherRoomId = '';

  it('renders a Markdown message: emphasis, quote, list, and a code block whose Copy button copies', async () => {
    // Bob writes first, so Ada has unread messages when she opens the room.
    const bobContext = await newContext({ width: 1280, height: 800 });
    bob = await bobContext.newPage();
    await registerThroughPage(bob, 'bob');
    await registerThroughPage(page, 'ada');
    const rooms = await apiAs<{ id: string; name: string }[]>(page, 'GET', '/rooms');
    generalId = rooms.find((room) => room.name === 'General')!.id;
    await apiAs(bob, 'POST', `/rooms/${generalId}/messages`, { body: 'Morning! Standup in 10, notes: https://example.com/notes', clientId: 'b1' });
    await apiAs(bob, 'POST', `/rooms/${generalId}/messages`, { body: 'Bring your _blockers_.', clientId: 'b2' });
    const { room } = await apiAs<{ room: { id: string } }>(page, 'POST', '/rooms', { name: 'Random', description: 'Off-topic, see https://example.com/rules' });
    otherRoomId = room.id;

    await page.goto(`/chat/${generalId}`);
    await expect.poll(() => page.getByTestId('message').count()).toBe(2);
    // Opened with two unread: the divider sits before the first of them.
    await expect.poll(() => page.getByTestId('unread-divider').count()).toBe(1);

    await send(page, MARKDOWN);
    const body = page.getByTestId('message-body').last();
    await expect.poll(() => body.locator('pre code').count()).toBe(1);
    expect(await body.locator('pre code').innerText()).toBe(CODE);
    expect(await body.locator('strong').allInnerTexts()).toEqual(['checklist']);
    expect(await body.locator('em').allInnerTexts()).toEqual(['today']);
    expect(await body.locator('del').allInnerTexts()).toEqual(['Friday']);
    expect(await body.locator('blockquote').innerText()).toBe('ship it when the tests are green');
    expect(await body.locator('ul > li').allInnerTexts()).toEqual(['run npm test', 'tag the build']);
    expect(await body.locator('ul code').innerText()).toBe('npm test');
    // The code scrolls sideways rather than wrapping.
    expect(await body.locator('pre').evaluate((pre) => getComputedStyle(pre).overflowX)).toBe('auto');

    const copy = body.getByTestId('copy-code');
    await copy.click();
    await expect.poll(() => copy.innerText()).toContain('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(CODE);
  });

  it('groups consecutive messages by one sender: one name for two messages', async () => {
    await send(page, 'and one more thing');
    await expect.poll(() => page.getByTestId('message').count()).toBe(4);
    const lastTwo = page.getByTestId('message').filter({ has: page.locator('[data-testid="message-body"]') });
    const senders = await lastTwo.evaluateAll((items) =>
      items.slice(-2).map((item) => ({ continued: item.getAttribute('data-continued'), names: item.querySelectorAll('[data-testid="message-sender"]').length })),
    );
    expect(senders).toEqual([
      { continued: null, names: 1 },
      { continued: 'true', names: 0 },
    ]);
    // Bob's two messages are a group too, and today has its separator.
    expect(await page.getByTestId('day-separator').allInnerTexts()).toEqual(['Today']);
    expect(await page.getByTestId('message-sender').allInnerTexts()).toEqual(['bob', 'ada']);
  });

  it('keeps a draft per room across a room switch and a reload', async () => {
    await composer().fill('half-written **thought**');
    await page.goto(`/chat/${otherRoomId}`);
    await expect.poll(() => page.locator('h1').innerText()).toContain('Random');
    expect(await composer().inputValue()).toBe('');
    // The room description shows its link.
    expect(await page.getByTestId('room-description').locator('a').getAttribute('href')).toBe('https://example.com/rules');
    await page.getByTestId('room-item').filter({ hasText: 'General' }).click();
    await expect.poll(() => composer().inputValue()).toBe('half-written **thought**');
    await page.reload();
    await expect.poll(() => composer().inputValue()).toBe('half-written **thought**');
    // Sent, the draft is gone.
    await composer().press('Enter');
    await expect.poll(() => composer().inputValue()).toBe('');
    await page.reload();
    await expect.poll(() => page.getByTestId('message').count()).toBe(5);
    expect(await composer().inputValue()).toBe('');
  });

  it('holds a message written offline and sends it exactly once when the network is back', async () => {
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state')).toBe('connected');
    await context.setOffline(true);
    // The app notices: the live link is down.
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state')).not.toBe('connected');

    await send(page, 'written on the train');
    const pending = page.getByTestId('pending-message');
    await expect.poll(() => pending.count()).toBe(1);
    await expect.poll(() => pending.getAttribute('data-status')).toBe('failed');
    expect(await pending.innerText()).toContain('Not sent');
    const held = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('securechat.outbox.')).map((key) => localStorage.getItem(key)));
    expect(held.join()).toContain('written on the train');

    await context.setOffline(false);
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: 40_000 }).toBe('connected');
    await expect.poll(() => pending.count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('message-body').allInnerTexts()).toContain('written on the train');

    const { messages } = await apiAs<{ messages: { body: string }[] }>(page, 'GET', `/rooms/${generalId}/messages?limit=100`);
    expect(messages.filter((message) => message.body === 'written on the train')).toHaveLength(1);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('securechat.outbox.')))).toEqual([]);
  });

  it('offers "Jump to first unread" when the divider is off-screen, and jumps to it', async () => {
    const { room } = await apiAs<{ room: { id: string } }>(bob, 'POST', '/rooms', { name: 'Busy' });
    await apiAs(page, 'POST', `/rooms/${room.id}/join`);
    await page.goto(`/chat/${room.id}`);
    await expect.poll(() => page.locator('h1').innerText()).toContain('Busy');
    await page.goto(`/chat/${otherRoomId}`);
    await expect.poll(() => page.locator('h1').innerText()).toContain('Random');
    for (let i = 1; i <= 40; i++) await apiAs(bob, 'POST', `/rooms/${room.id}/messages`, { body: `update ${i}`, clientId: `busy-${i}` });

    await page.getByTestId('room-item').filter({ hasText: 'Busy' }).click();
    await expect.poll(() => page.getByTestId('message').count()).toBe(40);
    const jump = page.getByTestId('jump-to-unread');
    await expect.poll(() => jump.isVisible()).toBe(true);
    await jump.click();
    await expect.poll(() => jump.count()).toBe(0);
    const divider = await page.getByTestId('unread-divider').boundingBox();
    const scroller = await page.locator('.message-scroller').boundingBox();
    expect(divider!.y).toBeGreaterThanOrEqual(scroller!.y - 1);
    expect(divider!.y).toBeLessThan(scroller!.y + scroller!.height);
    // The divider sits before Bob's first message since Ada last looked.
    const firstAfter = page.getByTestId('unread-divider').locator('xpath=following-sibling::li[1]');
    expect(await firstAfter.getByTestId('message-body').innerText()).toBe('update 1');
  });

  it('saves screenshots of the chat view at desktop width and at 375 px, usable on the phone', async () => {
    // Bob writes while Ada is in another room: back in General, the divider shows where new starts.
    await page.goto(`/chat/${otherRoomId}`);
    await expect.poll(() => page.locator('h1').innerText()).toContain('Random');
    await apiAs(bob, 'POST', `/rooms/${generalId}/messages`, { body: 'Looks good. Tagging **v1.4** after lunch', clientId: 'b3' });
    await page.getByTestId('room-item').filter({ hasText: 'General' }).click();
    await expect.poll(() => page.getByTestId('message').count()).toBe(7);
    await expect.poll(() => page.getByTestId('unread-divider').count()).toBe(1);
    await page.mouse.move(0, 0);
    // No theme chosen: the system's (light here) is the default.
    expect(await page.locator('html').getAttribute('data-bs-theme')).toBe('light');
    await screenshot(page, 'chat-view-desktop');

    // A phone whose system prefers dark gets the dark theme.
    const phoneContext = await newContext({ width: 375, height: 740 }, { storageState: await context.storageState(), colorScheme: 'dark' });
    const phone = await phoneContext.newPage();
    const phoneProblems = watchForProblems(phone);
    await phone.goto(`/chat/${generalId}`);
    await expect.poll(() => phone.getByTestId('message').count()).toBe(7);
    expect(await phone.locator('html').getAttribute('data-bs-theme')).toBe('dark');
    await screenshot(phone, 'chat-view-mobile');
    // Nothing wider than the screen; the composer and its send button are on it.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const send = await phone.getByTestId('send').boundingBox();
    expect(send!.x + send!.width).toBeLessThanOrEqual(375);
    // The code block scrolls inside itself instead of widening the page.
    const code = await phone.locator('pre').first().evaluate((pre) => ({ scroll: pre.scrollWidth, client: pre.clientWidth }));
    expect(code.scroll).toBeGreaterThan(code.client);
    // The rooms list is off-canvas until asked for.
    expect(await phone.locator('#rooms-panel').isVisible()).toBe(false);
    await phone.getByRole('button', { name: 'Rooms' }).click();
    await expect.poll(() => phone.locator('#rooms-panel').isVisible()).toBe(true);
    expect(phoneProblems).toEqual([]);
  });

  it('ran without script errors or CSP violations', () => {
    expect(problems).toEqual([]);
  });
});
