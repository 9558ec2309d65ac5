/**
 * Hostile text stays text: room names, descriptions and message bodies full of markup
 * and script are shown exactly as written, and nothing in them runs.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, startServer, watchForProblems } from './browser.js';

// Each payload would set window.__xss (or open a dialog) if it ever ran.
const PAYLOADS = [
  '<script>window.__xss = 1</script>',
  '<img src=x onerror="window.__xss = 2">',
  '<a href="javascript:window.__xss = 3">click me</a>',
  '<svg onload="window.__xss = 4"><circle r="10"/></svg>',
  '"><iframe srcdoc="<script>parent.__xss = 5</script>"></iframe>',
  '<b onmouseover=window.__xss=6>broken markup</b',
  'javascript:window.__xss = 7',
  '<style>body { display: none }</style>',
  "{{constructor.constructor('window.__xss = 8')()}}",
  '&lt;script&gt;alert(9)&lt;/script&gt; and &amp; entities',
  '<details open ontoggle="window.__xss = 10">x</details>',
  'https://example.com/?q=<script>window.__xss=11</script>',
];

describe('hostile text in the browser', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const context = await browser.newContext({ baseURL: server.url });
    page = await context.newPage();
    problems = watchForProblems(page);
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows hostile room names, descriptions and messages as written, and runs none of them', async () => {
    await registerThroughPage(page, 'mallory');

    // Through the API from the page itself, as any client could.
    const roomName = '<img src=x onerror=window.__xss=99>';
    const roomId = await page.evaluate(
      async ({ name, description, bodies }) => {
        const session = await (await fetch('/api/v1/auth/session')).json();
        const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
        const created = await fetch('/api/v1/rooms', { method: 'POST', headers, body: JSON.stringify({ name, description }) });
        const { room } = await created.json();
        for (const [i, body] of bodies.entries()) {
          await fetch(`/api/v1/rooms/${room.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ body, clientId: `x${i}` }) });
        }
        return room.id as string;
      },
      { name: roomName, description: PAYLOADS[3]!, bodies: PAYLOADS },
    );

    await page.goto(`/chat/${roomId}`);
    await expect.poll(() => page.getByTestId('message-body').allTextContents()).toEqual(PAYLOADS);
    await expect.poll(() => page.getByTestId('room-item').evaluateAll((n) => n.map((e) => e.getAttribute('data-room-name')))).toContain(roomName);
    expect(await page.locator('body').innerText()).toContain(roomName);
    expect(await page.locator('body').innerText()).toContain(PAYLOADS[3]);

    // Hover and click over every message, where an injected handler would fire.
    for (const body of await page.getByTestId('message-body').all()) {
      await body.hover();
      await body.click();
    }
    // None of the payloads became elements.
    const injected = await page.evaluate(() => ({
      scripts: document.querySelectorAll('main script, [data-testid="message-body"] *:not(a)').length,
      javascriptLinks: document.querySelectorAll('a[href^="javascript:"]').length,
      iframes: document.querySelectorAll('iframe').length,
      imgs: [...document.querySelectorAll('img')].filter((img) => img.getAttribute('src') === 'x').length,
      xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
    }));
    expect(injected).toEqual({ scripts: 0, javascriptLinks: 0, iframes: 0, imgs: 0, xss: null });
    expect(dialogs).toEqual([]);
    expect(await page.locator('body').isVisible()).toBe(true);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });
});
