/**
 * The bench's flame graph (bench/lib/flame-graph.ts) zooms in Chromium: a click on a bar
 * widens it to the whole plot and hides what is not above or below it; a click on the
 * bottom bar shows everything again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flameGraphSvg } from '../../bench/lib/flame-graph.js';
import { handMadeProfile } from '../fixtures/cpu-profile.js';
import { launchBrowser, watchForProblems } from './browser.js';

const WIDTH = 1000;
const PLOT = WIDTH - 20;

/** Each bar's label (from its tooltip), its drawn width, and whether it shows. */
function bars(page: Page) {
  return page.$$eval('.f', (groups) =>
    Object.fromEntries(
      groups.map((g) => [
        g.querySelector('title')!.textContent!.split(' ')[0],
        { width: Number(g.querySelector('rect')!.getAttribute('width')), shown: (g as SVGGElement).style.display !== 'none', text: g.querySelector('text')!.textContent },
      ]),
    ),
  );
}

describe('flame graph in the browser', () => {
  let browser: Browser;
  let page: Page;
  let dir: string;
  let problems: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'securechat-flame-'));
    const file = path.join(dir, 'profile.svg');
    writeFileSync(file, flameGraphSvg(handMadeProfile(), { title: 'hand-made', minShare: 0, width: WIDTH }));
    browser = await launchBrowser();
    page = await browser.newPage();
    problems = watchForProblems(page);
    await page.goto(`file://${file}`);
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('zooms into a clicked bar and out again from the bottom one', async () => {
    const before = await bars(page);
    expect(before.a!.width).toBeCloseTo(PLOT / 2 - 0.5, 0);
    expect(before.b!.shown).toBe(true);

    await page.click('.f[data-d="2"][data-x="0"]'); // `a`, half the CPU time
    const zoomed = await bars(page);
    expect(zoomed.a!.width).toBeCloseTo(PLOT - 0.5, 0);
    expect(zoomed.a!.text).toBe('a pkg/index.js:5');
    expect(zoomed.main).toMatchObject({ shown: true, width: PLOT - 0.5 }); // its caller spans the plot below it
    expect(zoomed.b!.shown).toBe(false); // a sibling
    expect(zoomed['(garbage']!.shown).toBe(false); // elsewhere on the stack

    await page.click('.f[data-d="0"]');
    expect(await bars(page)).toEqual(before);
    expect(problems).toEqual([]);
  });

  it('keeps what a zoomed bar called, up to its right edge', async () => {
    await page.click('.f[data-d="1"][data-x="0"]'); // `main`: `a` (3 ms) and `b` (1 ms, ending where `main` ends)
    const zoomed = await bars(page);
    expect(zoomed.main!.width).toBeCloseTo(PLOT - 0.5, 0);
    expect(zoomed.a).toMatchObject({ shown: true });
    expect(zoomed.a!.width).toBeCloseTo((PLOT * 3) / 4 - 0.5, 0);
    expect(zoomed.b).toMatchObject({ shown: true });
    expect(zoomed.b!.width).toBeCloseTo(PLOT / 4 - 0.5, 0);
    expect(zoomed['(garbage']!.shown).toBe(false);
    await page.click('.f[data-d="0"]');
    expect(problems).toEqual([]);
  });
});
