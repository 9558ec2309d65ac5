/**
 * SecureChat in a real browser: two people register, talk in a private room in real
 * time, survive a reload and an outage, and a third who was not invited sees nothing.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/factories.js';
import { launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

const ROOM = 'Project Nightjar';

// Browser steps under a loaded CI machine (other test files run beside this one) can take
// seconds each; a step that never completes still fails, by name, at the action timeout.
describe('chat in the browser', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems = new Map<Page, string[]>();

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  // A failed step leaves the pages where they stopped: say where, and what they showed.
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const [page, seen] of problems) {
      const alerts = await page.getByRole('alert').allTextContents().catch(() => []);
      const text = (await page.locator('body').innerText({ timeout: 2_000 }).catch(() => '')).replace(/\s+/g, ' ').slice(0, 400);
      console.info(`[chat e2e] after "${context.task.name}": ${page.url()} alerts=${JSON.stringify(alerts)} problems=${JSON.stringify(seen)} text=${JSON.stringify(text)}`);
    }
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
    const context = await browser.newContext({ viewport, baseURL: server.url });
    // Without a timeout a click on a control that never appears waits until the test's own
    // timeout, which does not say which step hung.
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    problems.set(page, watchForProblems(page));
    return page;
  }

  async function register(page: Page, username: string): Promise<void> {
    await registerThroughPage(page, username);
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state')).toBe('connected');
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByTestId('composer').fill(text);
    await page.getByTestId('composer').press('Enter');
  }

  const bodies = (page: Page) => page.getByTestId('message-body').allTextContents();
  const seqs = async (page: Page) =>
    (await page.getByTestId('message').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq')))));

  let alice: Page;
  let bob: Page;
  let roomPath: string;

  it('registers two people, who land in General', async () => {
    alice = await newPage();
    bob = await newPage();
    await register(alice, 'alice');
    await register(bob, 'bob');
    await expect.poll(() => alice.getByTestId('room-item').first().getAttribute('data-room-name')).toBe('General');
  });

  it('creates a private room and invites the other person, who joins by the link', async () => {
    // Alice is in General (its id already in the URL): the new room's path is the one after it.
    await expect.poll(() => alice.url()).toMatch(/\/chat\/[0-9a-f-]{36}$/);
    const generalUrl = alice.url();
    await alice.getByRole('button', { name: 'Create room' }).first().click();
    const dialog = alice.getByRole('dialog');
    await dialog.locator('input[name="name"]').fill(ROOM);
    await dialog.locator('[name="description"]').fill('Where the birds are planned');
    await dialog.locator('input[name="isPrivate"]').check();
    await dialog.getByRole('button', { name: 'Create room' }).click();
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toContain(ROOM);
    expect(alice.url()).not.toBe(generalUrl);
    expect(alice.url()).toMatch(/\/chat\/[0-9a-f-]{36}$/);
    roomPath = new URL(alice.url()).pathname;

    await alice.getByRole('button', { name: /invite/i }).click();
    await alice.getByRole('dialog').getByRole('button', { name: 'Create link' }).click();
    const link = await alice.getByTestId('invite-link').inputValue().catch(async () => alice.getByTestId('invite-link').textContent());
    expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]+$/);
    await alice.keyboard.press('Escape');

    await bob.goto(new URL(link!).pathname);
    await bob.getByRole('button', { name: 'Join' }).click();
    await bob.waitForURL(`**${roomPath}`);
    await expect.poll(() => bob.getByTestId('room-item').evaluateAll((n) => n.map((e) => e.getAttribute('data-room-name')))).toContain(ROOM);
  });

  it('delivers messages both ways in real time', async () => {
    await alice.goto(roomPath);
    await expect.poll(() => alice.getByTestId('connection-state').getAttribute('data-state')).toBe('connected');

    const started = Date.now();
    await send(alice, 'Hello Bob, can you read this?');
    await expect.poll(() => bodies(bob), { timeout: 5000, interval: 20 }).toContain('Hello Bob, can you read this?');
    const aliceToBob = Date.now() - started;

    await send(bob, 'Loud and clear, Alice.');
    await expect.poll(() => bodies(alice), { timeout: 5000, interval: 20 }).toContain('Loud and clear, Alice.');
    // Reported, not asserted: speed is the benchmarks' business.
    console.log(`browser delivery alice→bob observed within ${aliceToBob} ms (polling every 20 ms)`);
    await send(alice, 'Multi-line works too.\nSecond line <b>not bold</b>');
    await expect.poll(() => bodies(bob)).toContain('Multi-line works too.\nSecond line <b>not bold</b>');
    expect(await bob.locator('[data-testid="message-body"] b').count()).toBe(0);
  });

  it('shows the history in order after a reload', async () => {
    await bob.reload();
    await expect.poll(() => bodies(bob)).toEqual([
      'Hello Bob, can you read this?',
      'Loud and clear, Alice.',
      'Multi-line works too.\nSecond line <b>not bold</b>',
    ]);
    expect(await seqs(bob)).toEqual([1, 2, 3]);
  });

  it('catches up after an outage with every message exactly once, in order', async () => {
    await bob.context().setOffline(true);
    await expect.poll(() => bob.getByTestId('connection-state').getAttribute('data-state'), { timeout: 40_000 }).not.toBe('connected');
    const missed = Array.from({ length: 8 }, (_, i) => `While you were away #${i + 1}`);
    for (const text of missed) await send(alice, text);
    await expect.poll(() => bodies(alice)).toEqual(expect.arrayContaining(missed));
    // Bob really was cut off: none of it reached him yet.
    expect(await bodies(bob)).not.toContain(missed[0]);
    await bob.context().setOffline(false);
    await expect.poll(() => bob.getByTestId('connection-state').getAttribute('data-state'), { timeout: 40_000 }).toBe('connected');
    await expect.poll(() => seqs(bob), { timeout: 10_000 }).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect((await bodies(bob)).slice(3)).toEqual(missed);
  });

  it('keeps the room invisible to someone who was not invited', async () => {
    const carol = await newPage();
    await register(carol, 'carol');
    const roomNames = await carol.getByTestId('room-item').evaluateAll((n) => n.map((e) => e.getAttribute('data-room-name')));
    expect(roomNames).toEqual(['General']);
    await carol.goto(roomPath);
    await expect.poll(() => carol.locator('body').textContent()).toMatch(/not found|not a member|no access|isn.t available/i);
    const text = (await carol.locator('body').textContent()) ?? '';
    expect(text).not.toContain('Hello Bob');
    expect(text).not.toContain(ROOM);
    // Alice keeps talking; nothing reaches Carol's open page.
    await send(alice, 'Carol must never see this');
    await expect.poll(() => bodies(bob)).toContain('Carol must never see this');
    expect(await carol.locator('body').textContent()).not.toContain('Carol must never see this');
  });

  it('saves screenshots of the chat on a desktop and at 375 px', async () => {
    await alice.goto(roomPath);
    await expect.poll(() => bodies(alice)).toContain('Carol must never see this');
    await screenshot(alice, 'chat-desktop');
    const phone = await newPage({ width: 375, height: 740 });
    await phone.goto(`/login?next=${encodeURIComponent(roomPath)}`);
    await phone.locator('input[name="username"]').fill('bob');
    await phone.locator('input[name="password"]').fill(TEST_PASSWORD);
    await phone.locator('input[name="password"]').press('Enter');
    await phone.waitForURL(`**${roomPath}`);
    await expect.poll(() => bodies(phone)).toContain('Carol must never see this');
    await screenshot(phone, 'chat-375px');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('ran without script errors or CSP violations', () => {
    expect([...problems.values()].flat()).toEqual([]);
  });
});
