/**
 * Hostile text stays text: room names, descriptions and message bodies full of markup
 * and script are shown exactly as written, and nothing in them runs. Markdown makes only
 * its own safe elements (markdown/render.tsx), and no link but http(s)/mailto.
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

const MARKDOWN_PAYLOADS = [
  '[click](javascript:window.__xss=20)',
  '![x](javascript:window.__xss=21)',
  '**<img src=x onerror="window.__xss=22">**',
  '```\n</code></pre><script>window.__xss=23</script>\n```',
  '<https://example.com/" onmouseover="window.__xss=24>',
  '[a](https://ok.example "t\\" onmouseover=\\"window.__xss=25")',
  '> <iframe srcdoc="<script>parent.__xss=26</script>"></iframe>',
  '[x](data:text/html,<script>window.__xss=27</script>)',
  '![pixel](https://evil.example/pixel.gif)',
];

/** The elements message Markdown may make; anything else in a body was injected. */
const RENDERED_ELEMENTS = ['p', 'strong', 'em', 'del', 'code', 'pre', 'br', 'hr', 'blockquote', 'ul', 'ol', 'li', 'a', 'span', 'div', 'button', 'svg', 'polyline', 'path', 'rect', 'line'];

/** What a payload could have left on the page if any of it had become markup or run. */
function inspect(page: Page) {
  return page.evaluate((allowed) => {
    // Elements in message bodies Markdown would not make, or that carry a handler or a source.
    const foreign = [...document.querySelectorAll('[data-testid="message-body"] *')].filter(
      (element) =>
        !allowed.includes(element.localName) ||
        [...element.attributes].some((attribute) => attribute.name.startsWith('on') || ['src', 'srcdoc', 'style'].includes(attribute.name)),
    );
    return {
      scripts: document.querySelectorAll('main script').length + foreign.length,
      javascriptLinks: document.querySelectorAll('a[href^="javascript:"], a[href^="data:"]').length,
      iframes: document.querySelectorAll('iframe').length,
      imgs: document.querySelectorAll('main img').length,
      xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
    };
  }, RENDERED_ELEMENTS);
}

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
    const injected = await inspect(page);
    expect(injected).toEqual({ scripts: 0, javascriptLinks: 0, iframes: 0, imgs: 0, xss: null });
    expect(dialogs).toEqual([]);
    expect(await page.locator('body').isVisible()).toBe(true);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });

  it('renders hostile Markdown as safe elements only: no script links, no images, nothing runs', async () => {
    const roomId = await page.evaluate(async (bodies) => {
      const session = await (await fetch('/api/v1/auth/session')).json();
      const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
      const created = await fetch('/api/v1/rooms', { method: 'POST', headers, body: JSON.stringify({ name: 'Markdown' }) });
      const { room } = await created.json();
      for (const [i, body] of bodies.entries()) {
        await fetch(`/api/v1/rooms/${room.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ body, clientId: `md${i}` }) });
      }
      return room.id as string;
    }, MARKDOWN_PAYLOADS);

    await page.goto(`/chat/${roomId}`);
    const bodies = page.getByTestId('message-body');
    await expect.poll(() => bodies.count()).toBe(MARKDOWN_PAYLOADS.length);
    for (const body of await bodies.all()) {
      await body.hover();
      await body.click({ position: { x: 2, y: 2 } });
    }
    expect(await inspect(page)).toEqual({ scripts: 0, javascriptLinks: 0, iframes: 0, imgs: 0, xss: null });
    const texts = await bodies.allInnerTexts();
    // A refused link stays the text it was written as; markup inside emphasis or code is text.
    expect(texts[0]).toBe('[click](javascript:window.__xss=20)');
    expect(await bodies.nth(2).locator('strong').innerText()).toBe('<img src=x onerror="window.__xss=22">');
    expect(await bodies.nth(3).locator('pre code').innerText()).toBe('</code></pre><script>window.__xss=23</script>');
    // The image is a link to it, naming its host; it is never loaded.
    expect(await bodies.nth(8).locator('a').innerText()).toBe('Image: pixel (evil.example)');
    expect(dialogs).toEqual([]);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });
});
