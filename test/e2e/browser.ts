/**
 * Browser-test support: the real server (built client + API) on a loopback port, and
 * Debian's Chromium driven by playwright-core, kept off the network.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { listenOnLoopback, startTestApp, TEST_PASSWORD, type TestApp } from '../support/app.js';

export const ARTIFACTS_DIR = path.resolve('test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** The real app, listening on a free loopback port, serving the built client (`env`: extra settings, e.g. FILE_MAX_MB). */
export async function startServer(env: Record<string, string> = {}): Promise<TestApp & { url: string }> {
  const t = await startTestApp('sqlite', { PASSWORD_MIN_LENGTH: '8', ...env });
  return { ...t, url: await listenOnLoopback(t.app) };
}

/** Creates an account through the register page (email `<username>@example.com`, TEST_PASSWORD) and waits for the chat. */
export async function registerThroughPage(page: Page, username: string): Promise<void> {
  await page.goto('/register');
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="email"]').fill(`${username}@example.com`);
  await page.locator('input[name="password"]').fill(TEST_PASSWORD);
  await page.locator('input[name="confirmPassword"]').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/chat/);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Collects script errors and CSP violations a page reports, for assertions. */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`csp: ${message.text()}`);
    }
  });
  return problems;
}

/** Wraps the page's real Notification so each one raised is recorded (and still raised). */
export async function recordNotifications(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Real = window.Notification;
    const seen: Array<{ title: string; body?: string }> = [];
    (window as unknown as { __notifications: typeof seen }).__notifications = seen;
    const Recording = function (this: unknown, title: string, options?: NotificationOptions) {
      seen.push({ title, body: options?.body });
      return new Real(title, options);
    } as unknown as typeof Notification;
    Object.defineProperty(Recording, 'permission', { get: () => Real.permission });
    Recording.requestPermission = Real.requestPermission.bind(Real);
    Recording.prototype = Real.prototype;
    window.Notification = Recording;
  });
}

/** What recordNotifications saw, oldest first. */
export const notificationsOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { __notifications: Array<{ title: string; body?: string }> }).__notifications);

/** What the page sees when its tab goes to the background (or comes back). */
export const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((value) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (value ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);

/** Calls the API from the page, as its signed-in user (the session's CSRF token read first). */
export function apiAs<T>(page: Page, method: string, path: string, body?: unknown): Promise<T> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const session = await (await fetch('/api/v1/auth/session')).json();
      const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
      const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return response.status === 204 ? null : response.json();
    },
    { method, path, body },
  ) as Promise<T>;
}
