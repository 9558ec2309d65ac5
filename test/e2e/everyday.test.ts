/**
 * The everyday-messaging features together, as two people use them in one DM: alice starts
 * the DM from "New message", bob (notifications allowed and turned on, his tab hidden) is
 * notified of a mention, replies, alice edits, bob reacts, alice deletes, writes Markdown
 * with a code block, and sends a message written offline, which arrives exactly once.
 * The real Notification is wrapped to record what is raised, as in mentions.test.ts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, notificationsOf, recordNotifications, registerThroughPage, screenshot, setHidden, startServer, watchForProblems } from './browser.js';

describe('a day in a DM, in the browser', { timeout: 120_000 }, () => {
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

  async function newPage(grant: boolean): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
    context.setDefaultTimeout(15_000);
    if (grant) await context.grantPermissions(['notifications'], { origin: server.url });
    contexts.push(context);
    const page = await context.newPage();
    await recordNotifications(page);
    return { context, page };
  }

  const connected = (page: Page) => expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: 40_000 }).toBe('connected');
  const send = async (page: Page, text: string) => {
    await page.getByTestId('composer').fill(text);
    await page.getByTestId('composer').press('Enter');
  };
  // By its own body (a reply's quote repeats the original's text).
  const messageWith = (page: Page, text: string) => page.getByTestId('message').filter({ has: page.getByTestId('message-body').filter({ hasText: text }) });

  it('starts a DM, mentions, notifies, replies, edits, reacts, deletes, renders Markdown and sends what was written offline once', async () => {
    const { context: aliceContext, page: alice } = await newPage(false);
    const { page: bob } = await newPage(true);
    const problems = [...watchForProblems(alice), ...watchForProblems(bob)];
    await registerThroughPage(alice, 'alice');
    await registerThroughPage(bob, 'bob');
    await bob.goto('/settings');
    await bob.getByTestId('desktop-notifications').check();
    await bob.goto('/chat');
    await connected(bob);

    // Alice opens a DM with bob from "New message".
    await alice.getByRole('button', { name: 'New message' }).first().click();
    const dialog = alice.getByRole('dialog');
    await dialog.getByLabel('People').fill('bo');
    await dialog.getByTestId('dm-results').getByRole('button', { name: /bob/ }).click();
    await dialog.getByRole('button', { name: 'Start conversation' }).click();
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toContain('bob');
    await connected(alice);
    await send(alice, 'first, the plan');

    // Bob sees the DM appear in his sidebar and opens it.
    await bob.getByTestId('dm-list').getByTestId('dm-item').first().click();
    await expect.poll(() => bob.getByTestId('message-body').allTextContents()).toContain('first, the plan');

    // Bob's tab goes to the background; a mention from alice notifies him (a DM notifies of everything).
    await setHidden(bob, true);
    await send(alice, '@bob look');
    await expect.poll(async () => (await notificationsOf(bob)).map((n) => n.body)).toContain('@bob look');
    await setHidden(bob, false);
    await expect.poll(() => bob.locator('.message-mentions-me').getByTestId('mention').textContent()).toBe('@bob');

    // Bob replies to the first message; alice sees the quote.
    const first = messageWith(bob, 'first, the plan');
    await first.hover();
    await first.getByTestId('reply-button').click();
    await send(bob, 'agreed');
    await expect.poll(() => alice.getByTestId('reply-quote').textContent()).toBe('@alice first, the plan');

    // Alice edits her message; bob sees the new text marked edited, and reacts.
    const firstSeq = await messageWith(alice, 'first, the plan').getAttribute('data-seq');
    const mine = alice.locator(`[data-testid="message"][data-seq="${firstSeq}"]`);
    await mine.hover();
    await mine.getByTestId('action-edit').click();
    await mine.getByRole('textbox', { name: 'Edit message' }).fill('first, the new plan');
    await mine.getByRole('textbox', { name: 'Edit message' }).press('Enter');
    const onBob = messageWith(bob, 'first, the new plan');
    await onBob.getByTestId('message-edited').waitFor();
    await onBob.hover();
    // In a DM nobody moderates: bob may react to alice's message but not delete it.
    expect(await onBob.getByTestId('action-delete').count()).toBe(0);
    await onBob.getByTestId('action-react').click();
    await onBob.locator('[data-testid="emoji-choice"][data-emoji="👍"]').click();
    await expect.poll(() => messageWith(alice, 'first, the new plan').locator('[data-testid="reaction"][data-emoji="👍"]').getByTestId('reaction-count').textContent()).toBe('1');

    // Alice deletes her mention; bob sees the tombstone.
    const mention = messageWith(alice, '@bob look');
    await mention.hover();
    await mention.getByTestId('action-delete').click();
    await alice.getByTestId('confirm-delete').click();
    await expect.poll(() => bob.getByTestId('message-deleted').count()).toBe(1);

    // Markdown with a code block arrives as elements.
    await alice.getByTestId('composer').fill('**Run** this:\n```\nnpm test\n```');
    await alice.getByTestId('composer').press('Enter');
    await expect.poll(() => bob.locator('.message-body pre code').last().textContent()).toBe('npm test');
    expect(await bob.locator('.message-body strong').last().textContent()).toBe('Run');

    // Written offline, sent once the network is back — exactly once.
    await aliceContext.setOffline(true);
    await expect.poll(() => alice.getByTestId('connection-state').getAttribute('data-state')).not.toBe('connected');
    await send(alice, 'written on the train');
    await expect.poll(() => alice.getByTestId('pending-message').count()).toBe(1);
    await aliceContext.setOffline(false);
    await connected(alice);
    await expect.poll(() => bob.getByTestId('message-body').allTextContents(), { timeout: 30_000 }).toContain('written on the train');
    const dmId = new URL(alice.url()).pathname.split('/').pop()!;
    const page = await alice.evaluate(async (id) => (await fetch(`/api/v1/rooms/${id}/messages?limit=100`)).json(), dmId);
    expect((page as { messages: { body: string }[] }).messages.filter((m) => m.body === 'written on the train')).toHaveLength(1);

    await screenshot(bob, 'everyday-dm');
    expect(problems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp'))).toEqual([]);
  });
});
