/**
 * Replies, mentions and desktop notifications in a real browser. Bob allows notifications
 * in his browser context (`grantPermissions`) and turns them on in settings; his page is
 * then made hidden by overriding `document.visibilityState` and dispatching
 * `visibilitychange` (what the page sees when its tab goes to the background). The real
 * Notification is wrapped, not stubbed: each construction is recorded, then passed on.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, notificationsOf, recordNotifications, registerThroughPage, screenshot, setHidden, startServer, watchForProblems } from './browser.js';

describe('replies and mentions in the browser', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  let bobProblems: string[];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  async function newPage(grant: boolean): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
    context.setDefaultTimeout(15_000);
    if (grant) await context.grantPermissions(['notifications'], { origin: server.url });
    contexts.push(context);
    const page = await context.newPage();
    // Record each notification the page raises, and still raise it with the real constructor.
    await recordNotifications(page);
    return page;
  }

  const connected = (page: Page) => expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state')).toBe('connected');

  it('notifies bob of a mention while his tab is hidden, with a mention badge', async () => {
    alice = await newPage(false);
    bob = await newPage(true);
    bobProblems = watchForProblems(bob);
    await registerThroughPage(alice, 'alice');
    await registerThroughPage(bob, 'bob');
    // Alice's member list of General was read before bob existed: a reload reads it afresh.
    await alice.reload();

    // Bob turns desktop notifications on: the permission is asked only now (and granted).
    await bob.goto('/settings');
    await bob.getByTestId('desktop-notifications').check();
    await expect.poll(() => bob.evaluate(() => localStorage.getItem('securechat.desktopNotifications'))).toBe('1');
    await bob.goto('/chat');
    await connected(bob);
    await connected(alice);

    // Alice writes her first message, which bob will reply to later; then bob's tab goes to the background.
    await alice.getByTestId('composer').fill('first, the plan');
    await alice.getByTestId('composer').press('Enter');
    await expect.poll(() => bob.getByTestId('message-body').allTextContents()).toContain('first, the plan');
    await setHidden(bob, true);

    // @ autocompletes from the room's members: "@bo" then Enter picks bob.
    await alice.getByTestId('composer').pressSequentially('@bo');
    await expect.poll(() => alice.getByTestId('mention-suggestions').getByRole('option').allTextContents()).toEqual(['@bob']);
    await alice.getByTestId('composer').press('Enter');
    await alice.getByTestId('composer').pressSequentially('look');
    await expect.poll(() => alice.getByTestId('composer').inputValue()).toBe('@bob look');
    await alice.getByTestId('composer').press('Enter');

    await expect.poll(() => notificationsOf(bob)).toEqual([{ title: 'alice in General', body: '@bob look' }]);
    await expect.poll(() => bob.getByTestId('mention-count').textContent()).toContain('@1');
    await expect.poll(() => bob.title()).toMatch(/^@ \(\d+\) /);
    await expect.poll(() => bob.locator('link[rel="icon"]').getAttribute('data-unread')).toBe('mention');

    // Back in front: the room is read, the badge goes, and the mention of bob stands out.
    await setHidden(bob, false);
    await expect.poll(() => bob.getByTestId('mention-count').count()).toBe(0);
    const mine = bob.locator('.message-mentions-me');
    await expect.poll(() => mine.getByTestId('mention').textContent()).toBe('@bob');
  });

  it('lets bob reply to alice’s first message; the quote jumps to the original', async () => {
    const original = bob.getByTestId('message').filter({ hasText: 'first, the plan' });
    await original.hover();
    await original.getByTestId('reply-button').click();
    await expect.poll(() => bob.getByTestId('composer-reply').textContent()).toContain('Replying to @alice — first, the plan');
    await bob.getByTestId('composer').fill('agreed');
    await bob.getByTestId('composer').press('Enter');
    await expect.poll(() => bob.getByTestId('composer-reply').count()).toBe(0);

    const quote = alice.getByTestId('reply-quote');
    await expect.poll(() => quote.textContent()).toBe('@alice first, the plan');
    await quote.click();
    await expect.poll(() => alice.locator('.message-highlight').getByTestId('message-body').textContent()).toBe('first, the plan');
    await screenshot(alice, 'mentions-replies');
    expect(bobProblems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp'))).toEqual([]);
  });
});
