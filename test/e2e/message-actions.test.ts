/**
 * Edits, reactions and deletes in a real browser: alice edits (bob sees "edited"), bob
 * reacts (alice sees the count), alice deletes (bob sees the tombstone), all in real time.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

describe('message actions in the browser', { timeout: 90_000 }, () => {
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

  async function person(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    problems.push(watchForProblems(page));
    await registerThroughPage(page, name);
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state')).toBe('connected');
    return page;
  }

  it('edits, reacts and deletes, and the other person sees each at once', async () => {
    const alice = await person('alice_actions');
    const bob = await person('bob_actions');
    await alice.getByTestId('composer').fill('Lunch at noon?');
    await alice.getByTestId('composer').press('Enter');
    await bob.getByTestId('message').filter({ hasText: 'Lunch at' }).waitFor();
    const seq = await bob.getByTestId('message').filter({ hasText: 'Lunch at' }).getAttribute('data-seq');
    const onBob = bob.locator(`[data-testid="message"][data-seq="${seq}"]`);
    const mine = alice.locator(`[data-testid="message"][data-seq="${seq}"]`);
    await mine.hover();
    await mine.getByTestId('action-edit').click();
    const editor = mine.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('Lunch at one?');
    await editor.press('Enter');
    await expect.poll(() => onBob.getByTestId('message-body').textContent()).toBe('Lunch at one?');
    await onBob.getByTestId('message-edited').waitFor();

    await onBob.hover();
    await onBob.getByTestId('action-react').click();
    await onBob.locator('[data-testid="emoji-choice"][data-emoji="👍"]').click();
    const chip = mine.locator('[data-testid="reaction"][data-emoji="👍"]');
    await expect.poll(() => chip.getByTestId('reaction-count').textContent()).toBe('1');
    expect(await chip.getAttribute('aria-pressed')).toBe('false');
    expect(await onBob.locator('[data-testid="reaction"][data-emoji="👍"]').getAttribute('aria-pressed')).toBe('true');

    // Bob sees the earlier version.
    await onBob.getByTestId('message-edited').click();
    await expect.poll(() => bob.getByTestId('message-edits').textContent()).toContain('Lunch at noon?');
    await bob.keyboard.press('Escape');
    await expect.poll(() => bob.getByTestId('message-edits').count()).toBe(0);

    const file = await screenshot(bob, 'reactions-edits');
    mkdirSync('docs/screenshots', { recursive: true });
    copyFileSync(file, 'docs/screenshots/reactions-edits.png');

    await mine.hover();
    await mine.getByTestId('action-delete').click();
    await alice.getByTestId('confirm-delete').click();
    await expect.poll(() => onBob.getByTestId('message-deleted').count()).toBe(1);
    expect(await onBob.getByTestId('message-deleted').textContent()).toBe('This message was deleted.');
    expect(await onBob.getByTestId('reaction').count()).toBe(0);
    expect(problems.flat()).toEqual([]);
  });
});
