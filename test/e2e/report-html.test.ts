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
async function openReport(path: string, shot: string, width = 1200) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
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

/** A preview of `lines` (CSV with a header) into a fresh directory; returns report.json and the page. */
async function previewOf(name: string, lines: readonly string[], extra: readonly string[] = [], width = 1200) {
  const dir = await tempDir();
  const input = join(dir, `${name}.csv`);
  await writeFile(input, lines.join('\n') + '\n');
  const out = join(dir, 'out');
  const r = await runCli(['preview', input, '--out', out, '--import-at', IMPORT_AT, '--max-reject-rate', '1', '--quiet', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  return { report, ...(await openReport(join(out, 'report.html'), `report-${name}.png`, width)) };
}

describe('report.html: outliers, long names, money, ticks (issue 16)', () => {
  it('one event from 2003 among a year of events does not squash the bars: it goes to an "older" bar, said in words', async () => {
    const lines = ['userId,event,time'];
    const T = Date.parse(IMPORT_AT);
    for (let i = 0; i < 300; i++) lines.push(`u${i % 17},open,${new Date(T - (i + 1) * 86_400_000).toISOString()}`);
    lines.push('u1,open,2003-06-01T00:00:00Z');
    const { report, page, context } = await previewOf('outlier', lines);
    expect(report.histogram.older).toMatchObject({ input: 1, output: 0 });
    expect(report.histogram.buckets.length).toBeLessThanOrEqual(16);
    // every row is somewhere on the chart
    const inputs = report.histogram.buckets.reduce((s: number, b: { input: number }) => s + b.input, 0);
    expect(inputs + report.histogram.older.input).toBe(301);
    const widths = await page.locator('svg.histogram rect.bar.input[data-bucket]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('width'))));
    expect(widths.length).toBe(report.histogram.buckets.length + 1);
    expect(Math.min(...widths)).toBeGreaterThan(10);
    const note = await page.locator('svg.histogram .clip-note').textContent();
    expect(note).toMatch(/^1 input row before \d{4}-\d{2} in the first bar \(the earliest 2003-06-01\)/);
    expect(await page.locator('#histogram-section').textContent()).toContain('older');
    await context.close();
  });

  it('event names, user ids and values of 139-200 characters without spaces wrap inside a 1024 px page', async () => {
    const long = (c: string, n = 200) => c.repeat(n);
    // 139 is the longest event name Leanplum takes; a longer one is rejected and shown with its row
    const lines = [
      'userId,event,time,params.note',
      `${long('u')},${long('e', 139)},2024-01-01T00:00:00Z,${long('n')}`,
      `${long('v')},${long('g')},2024-01-01T00:00:00Z,${long('m')}`,
      `u2,${long('f', 139)},2026-11-01T00:00:00Z,x`,
    ];
    const { page, context } = await previewOf('long-names', lines, [], 1024);
    expect(await page.locator('#clamped-sample').textContent()).toContain(long('u'));
    expect(await page.locator('#events-table').textContent()).toContain(long('f', 139));
    expect(await page.locator('#rejected').textContent()).toContain(long('m'));
    expect(await page.locator('.warnings .campaigns_fire').textContent()).toContain(long('e', 139));
    const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
      '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
    );
    expect(innerWidth).toBe(1024);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    // and no table hides the long value in a scroll box of its own: it wraps
    const boxes = await page.locator('.table-wrap').evaluateAll((els) => els.map((e) => e.scrollWidth - e.clientWidth));
    expect(boxes.length).toBeGreaterThan(0);
    expect(Math.max(...boxes)).toBeLessThanOrEqual(0);
    await context.close();
  });

  it('money is summed in exact decimals: 0.1 + 0.2 is 0.3, 3 × 0.001 is 0.003, big sums keep their cents', async () => {
    const lines = [
      'userId,event,time,value,currencyCode',
      'u1,buy,2026-11-01T00:00:00Z,0.1,USD',
      'u2,buy,2026-11-01T00:00:00Z,0.2,USD',
      'u1,tip,2026-11-01T00:00:00Z,0.001,EUR',
      'u2,tip,2026-11-01T00:00:00Z,0.001,EUR',
      'u3,tip,2026-11-01T00:00:00Z,0.001,EUR',
      'u1,whale,2026-11-01T00:00:00Z,12345678901234567.89,JPY',
      'u2,whale,2026-11-01T00:00:00Z,12345678901234567.89,JPY',
    ];
    const { report, page, context } = await previewOf('money', lines);
    expect(report.schemaVersion).toBe(2);
    const by = (e: string) => report.events.find((x: { event: string }) => x.event === e).valueByCurrency;
    expect(by('buy')).toEqual({ USD: '0.3' });
    expect(by('tip')).toEqual({ EUR: '0.003' });
    expect(by('whale')).toEqual({ JPY: '24691357802469135.78' });
    const cells = await page
      .locator('#events-table tbody tr')
      .evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.children[0]!.textContent, r.children[4]!.textContent])));
    expect(cells).toEqual({ buy: '0.3 USD', tip: '0.003 EUR', whale: '24,691,357,802,469,135.78 JPY' });
    await context.close();
  });

  it('the count axis has whole-number ticks when the tallest bar holds 2 rows', async () => {
    const lines = ['userId,event,time', 'u1,open,2026-11-01T00:00:00Z', 'u2,open,2026-11-01T00:00:00Z', 'u3,open,2026-10-01T00:00:00Z'];
    const { page, context } = await previewOf('ticks', lines);
    const ticks = await page.locator('svg.histogram text.axis[text-anchor="end"]').allTextContents();
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const t of ticks) expect(t).toMatch(/^\d[\d,]*$/);
    expect(ticks.map((t) => Number(t.replace(/,/g, '')))).toContain(2);
    await context.close();
  });
});
