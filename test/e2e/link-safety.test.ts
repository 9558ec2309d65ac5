/**
 * Link text that cannot lie, in a real browser: a link shows the host it opens (punycode
 * for an IDN look-alike, no userinfo), and a bidi control in a message is shown as a token
 * instead of reversing the text after it, in sent messages and in an own message still
 * sending or refused. Asserted on what the page renders (innerText, computed styles), not
 * on the source. Saves the screenshot of the room for the README.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, registerThroughPage, screenshot, startServer, watchForProblems } from './browser.js';

const RLO = '\u202E';
const BODIES = [
  // Drawn by an unprotected client as "… https://google.com/…" (reversed), linking evil.example.
  `${RLO}moc.elgoog//:sptth https://evil.example/${RLO}gpj.exe`,
  'sign in at https://\u0430pple.com/login', // Cyrillic а
  'see https://example.com@evil.example/',
];

describe('link safety in the browser', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = await (await browser.newContext({ baseURL: server.url })).newPage();
    problems = watchForProblems(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the real host of every link and shows bidi controls instead of obeying them', async () => {
    await registerThroughPage(page, 'linker');
    const roomId = await page.evaluate(async (bodies) => {
      const session = await (await fetch('/api/v1/auth/session')).json();
      const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
      const created = await fetch('/api/v1/rooms', { method: 'POST', headers, body: JSON.stringify({ name: 'Links' }) });
      const { room } = await created.json();
      for (const [i, body] of bodies.entries()) {
        await fetch(`/api/v1/rooms/${room.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ body, clientId: `l${i}` }) });
      }
      return room.id as string;
    }, BODIES);

    await page.goto(`/chat/${roomId}`);
    const bodies = page.getByTestId('message-body');
    await expect.poll(() => bodies.count()).toBe(BODIES.length);
    const rendered = await bodies.evaluateAll((nodes) =>
      nodes.map((node) => ({
        text: (node as HTMLElement).innerText,
        links: [...node.querySelectorAll('a')].map((a) => ({
          text: a.innerText,
          href: a.href,
          isolated: getComputedStyle(a).unicodeBidi === 'isolate' && getComputedStyle(a).direction === 'ltr',
        })),
        controls: [...node.querySelectorAll('.bidi-control')].map((c) => ({ text: (c as HTMLElement).innerText, width: c.getBoundingClientRect().width })),
      })),
    );

    // The override is shown as a token, twice, and no U+202E is left in the rendered text.
    const [bidi, lookalike, userinfo] = rendered;
    expect(bidi!.text).not.toContain(RLO);
    expect(bidi!.text).toBe('U+202Emoc.elgoog//:sptth https://evil.example/U+202Egpj.exe');
    expect(bidi!.controls).toHaveLength(2);
    for (const control of bidi!.controls) {
      expect(control.text).toBe('U+202E');
      expect(control.width).toBeGreaterThan(0);
    }
    expect(bidi!.links).toEqual([{ text: 'https://evil.example/U+202Egpj.exe', href: 'https://evil.example/%E2%80%AEgpj.exe', isolated: true }]);

    // The Cyrillic look-alike host is drawn as the punycode the browser resolves.
    expect(lookalike!.links).toEqual([{ text: 'https://xn--pple-43d.com/login', href: 'https://xn--pple-43d.com/login', isolated: true }]);
    expect(lookalike!.text).toBe('sign in at https://xn--pple-43d.com/login');

    // Userinfo is gone from the text and from where the link goes.
    expect(userinfo!.links).toEqual([{ text: 'https://evil.example/', href: 'https://evil.example/', isolated: true }]);
    expect(userinfo!.text).toBe('see https://evil.example/');
    await screenshot(page, 'honest-links');

    expect(problems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp'))).toEqual([]);
  });

  it('renders an own message still sending, and one that failed, the same way', async () => {
    // The socket is refused (so the client sends over HTTP), and the send is held, then refused.
    await page.routeWebSocket(/\/api\/v1\/ws/, (socket) => socket.close());
    let releaseSend: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (releaseSend = resolve));
    await page.route(/\/api\/v1\/rooms\/[^/]+\/messages$/, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await held;
      await route.fulfill({ status: 400, json: { error: { code: 'validation_failed', message: 'Refused by the test.' } } });
    });
    await page.reload();
    await page.getByTestId('composer').fill(BODIES[0]!);
    await page.getByTestId('send').click();

    const pending = page.getByTestId('pending-message');
    const renderedPending = () =>
      pending.locator('.message-body').evaluate((node) => ({
        text: (node as HTMLElement).innerText,
        links: [...node.querySelectorAll('a')].map((a) => ({
          text: a.innerText,
          href: a.href,
          isolated: getComputedStyle(a).unicodeBidi === 'isolate' && getComputedStyle(a).direction === 'ltr',
        })),
        controls: [...node.querySelectorAll('.bidi-control')].map((c) => (c as HTMLElement).innerText),
      }));
    const expected = {
      text: 'U+202Emoc.elgoog//:sptth https://evil.example/U+202Egpj.exe',
      links: [{ text: 'https://evil.example/U+202Egpj.exe', href: 'https://evil.example/%E2%80%AEgpj.exe', isolated: true }],
      controls: ['U+202E', 'U+202E'],
    };
    await expect.poll(() => pending.getAttribute('data-status')).toBe('sending');
    expect(await renderedPending()).toEqual(expected);

    releaseSend!();
    await expect.poll(() => pending.getAttribute('data-status')).toBe('failed');
    expect(await renderedPending()).toEqual(expected);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });
});
