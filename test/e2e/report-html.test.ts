import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, repoRoot, sample, tempDir } from '../helpers/run.js';

const shots = join(repoRoot, 'test-output');

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  await mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Opens a report from file:// and records console errors, dialogs and every request made. */
async function openReport(path: string, shot: string) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === pathToFileURL(path).href) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(path).href);
  await page.waitForLoadState('load');
  await page.screenshot({ path: join(shots, shot), fullPage: true });
  return { page, context, consoleErrors, requests, dialogs };
}

describe('report.html in headless Chromium', () => {
  it('mobile-game: histogram with markers, the expected numbers, no errors, no network', async () => {
    const out = await tempDir();
    const r = await runCli(['preview', sample('mobile-game.csv'), '--out', out, '--import-at', IMPORT_AT, '--count-column', 'count']);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const { page, context, consoleErrors, requests } = await openReport(join(out, 'report.html'), 'report-mobile-game.png');
    expect(await page.locator('svg.histogram rect.bar.output').count()).toBe(report.histogram.buckets.length + 1);
    const heights = await page.locator('svg.histogram rect.bar.input').evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
    expect(heights.some((h) => h > 0)).toBe(true);
    expect(await page.locator('svg.histogram line[data-marker="cutoff"]').count()).toBe(1);
    expect(await page.locator('svg.histogram line[data-marker="analytics"]').count()).toBe(1);
    const totals = await page.locator('#totals-table tbody td').allTextContents();
    expect(totals.slice(0, 5)).toEqual(
      [report.totals.read, report.totals.kept, report.totals.rejected, report.totals.dropped, report.totals.written].map((x: number) =>
        x.toLocaleString('en-US'),
      ),
    );
    expect(await page.locator('#conservation').textContent()).toContain('read 40 = kept 33 + rejected 0 + dropped 7');
    expect(await page.locator('#events-table tbody tr').count()).toBe(report.events.length);
    expect(await page.locator('#clamped-sample tbody tr').count()).toBe(report.clamped.sample.length);
    expect(await page.locator('.warnings .campaigns_fire').textContent()).toContain('WILL fire');
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([]);
    await context.close();
  });

  it('an XSS payload in userId, event and params shows as text and never runs', async () => {
    const dir = await tempDir();
    const payload = '<img src=x onerror=alert(1)>';
    const script = '<script>alert(2)</script>';
    const input = join(dir, 'xss.csv');
    await writeFile(
      input,
      [
        'userId,event,time,params.note',
        `"${payload}",open,2024-01-01T00:00:00Z,"${script}"`,
        `u2,"x<svg onload=alert(3)>",2024-01-01T00:00:00Z,ok`,
        `"${payload}",,2026-11-01T00:00:00Z,"${script}"`,
      ].join('\n') + '\n',
    );
    // --out is a directory of its own: a run's outputs never share one with other files
    const out = join(dir, 'out');
    const r = await runCli(['preview', input, '--out', out, '--import-at', IMPORT_AT, '--max-reject-rate', '1']);
    expect(r.code).toBe(0);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>');
    const { page, context, consoleErrors, requests, dialogs } = await openReport(join(out, 'report.html'), 'report-xss.png');
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('#clamped-sample').textContent()).toContain(payload);
    expect(await page.locator('#rejected').textContent()).toContain(script);
    await context.close();
  });

  it('stays small on a larger input (bounded tables, fixed-size histogram)', async () => {
    const dir = await tempDir();
    const input = join(dir, 'big.csv');
    const lines = ['userId,event,time,params.n'];
    const T = Date.parse(IMPORT_AT);
    for (let i = 0; i < 60_000; i++) lines.push(`u${i % 5000},ev${i % 700},${new Date(T - (i % 900) * 86_400_000).toISOString()},${i}`);
    lines.push(',missing,2026-01-01T00:00:00Z,1');
    await writeFile(input, lines.join('\n') + '\n');
    const out = join(dir, 'out');
    const r = await runCli(['preview', input, '--out', out, '--import-at', IMPORT_AT, '--quiet']);
    expect(r.code).toBe(0);
    const size = (await stat(join(out, 'report.html'))).size;
    expect(size).toBeLessThan(2 * 1024 * 1024);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.clamped.sample.length).toBe(50);
    expect(report.warnings.map((w: { code: string }) => w.code)).toContain('event_name_limit');
  });
});
