/**
 * 9. Cold load: a signed-in user opens `/chat` in Chromium (playwright-core, /usr/bin/chromium)
 * with an empty cache, on a throttled "3G" network set through CDP. Measures the bytes the
 * browser received (the sum of Network.loadingFinished encodedDataLength: compressed bytes on
 * the wire, headers included) and the time from navigation start to the first message of
 * the seeded room on screen. Needs the built client (npm run build:client).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { atMost } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { seedMessages, seedRooms, seedUsers } from '../lib/seed.js';
import { REPO_ROOT } from '../lib/server.js';
import { formatBytes, progress, sleep } from '../lib/util.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Like Chrome DevTools' old "Fast 3G" preset: 1.6 Mbps down, 750 kbps up, 150 ms round trip. */
export const THREE_G = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
const THREE_G_TEXT = '3G profile (1.6 Mbps down, 750 kbps up, 150 ms RTT, set by CDP Network.emulateNetworkConditions)';

/** 120 KB as 120,000 bytes (the stricter reading of KB). */
const BYTES_TARGET = 120_000;
const FIRST_MESSAGE_TARGET_MS = 1_500;

/** Set in the page before any of its scripts: when the first message item is in the DOM and painted. */
const MARK_FIRST_MESSAGE = `(() => {
  const seen = () => document.querySelector('[data-testid="message"]');
  const mark = () => requestAnimationFrame(() => { window.__firstMessageAt = performance.now(); });
  const observer = new MutationObserver(() => { if (seen()) { observer.disconnect(); mark(); } });
  observer.observe(document, { childList: true, subtree: true });
})();`;

interface ColdLoad {
  bytes: number;
  requests: number;
  firstMessageMs: number;
}

export const coldLoadScenario: Scenario = {
  id: 'cold-load',
  title: 'Cold load of /chat on 3G',
  limitMs: (ctx) => (ctx.quick ? 60_000 : 120_000),
  async run(ctx, scope, emit) {
    const began = Date.now();
    const loads = ctx.quick ? 2 : 5;
    const result = newResult(ctx, 'cold-load', `Cold load of /chat, signed in, on 3G (${loads} loads)`);
    if (!existsSync(path.join(REPO_ROOT, 'dist/client/index.html'))) {
      fail(result, 'dist/client is not built: run npm run build:client first');
      emit(result);
      return;
    }
    if (!existsSync(CHROMIUM)) {
      fail(result, `no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
      emit(result);
      return;
    }
    // Every wait gets what is left of the scenario's limit, less a margin to report in.
    const deadline = began + coldLoadScenario.limitMs(ctx) - 5_000;
    const timeLeft = () => Math.max(1_000, deadline - Date.now());
    const instance = await scope.instance('cold-load');
    const { user } = await instance.seed(async (seed) => {
      const [reader, writer] = await seedUsers(seed, 'cold', 2, { sessions: true });
      const [roomId] = await seedRooms(seed, 'cold-room', [[reader!.id, writer!.id]]);
      await seedMessages(seed, roomId!, [writer!.id, reader!.id], 200);
      return { user: reader! };
    });
    const server = await instance.start();
    const [cookieName, ...cookieValue] = user.cookie.split('=');

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    scope.defer(() => browser.close());
    const measured: ColdLoad[] = [];
    try {
      for (let i = 0; i < loads; i++) {
        // A new context each time: an empty cache, as on a first visit.
        const context = await browser.newContext();
        try {
          await context.addCookies([{ name: cookieName!, value: cookieValue.join('='), url: server.baseUrl }]);
          const page = await context.newPage();
          await page.addInitScript(MARK_FIRST_MESSAGE);
          const cdp = await context.newCDPSession(page);
          let bytes = 0;
          let requests = 0;
          cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
            bytes += event.encodedDataLength;
            requests += 1;
          });
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', THREE_G);
          await page.goto(`${server.baseUrl}/chat`, { waitUntil: 'commit', timeout: timeLeft() });
          await page.waitForFunction(() => (window as unknown as { __firstMessageAt?: number }).__firstMessageAt !== undefined, undefined, {
            timeout: timeLeft(),
            polling: 50,
          });
          const firstMessageMs = await page.evaluate(() => (window as unknown as { __firstMessageAt: number }).__firstMessageAt);
          // What the page still fetches right after (the favicon, say) belongs to the load too.
          await sleep(1_000);
          measured.push({ bytes, requests, firstMessageMs });
          progress(`cold load ${i + 1}/${loads}: ${formatBytes(bytes)} in ${requests} responses, first message at ${firstMessageMs.toFixed(0)} ms`);
        } finally {
          await context.close();
        }
      }
    } catch (error) {
      fail(result, `cold load: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await browser.close();
    }

    if (measured.length > 0) {
      const times = measured.map((m) => m.firstMessageMs).sort((a, b) => a - b);
      // The upper middle: with two loads, the target is judged on the slower one.
      const median = times[Math.floor(times.length / 2)]!;
      const bytes = Math.max(...measured.map((m) => m.bytes));
      const requests = Math.max(...measured.map((m) => m.requests));
      const sent = `${measured.length} cold loads of GET /chat (new browser context each, session cookie set) on the ${THREE_G_TEXT}; room of 200 messages`;
      result.figures.push(
        {
          figure: 'cold load of /chat: bytes transferred (largest load)',
          value: bytes / 1000,
          unit: 'kB',
          target: atMost(bytes / 1000, BYTES_TARGET / 1000, ' kB'),
          sent,
          received: `${requests} responses; sum of CDP Network.loadingFinished encodedDataLength (WebSocket frames not included)`,
        },
        {
          figure: 'time to first message on 3G (median; upper middle when even)',
          value: median,
          unit: 'ms',
          target: atMost(median, FIRST_MESSAGE_TARGET_MS, ' ms'),
          sent,
          received: `navigation start → first message item painted; per load: ${measured.map((m) => m.firstMessageMs.toFixed(0)).join(', ')} ms`,
        },
      );
      result.details = { loads: measured, network: THREE_G };
    }
    result.durationMs = Date.now() - began;
    emit(result);
  },
};
