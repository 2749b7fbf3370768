import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { renderReportHtml } from '../../src/report/html.js';
import { transformWithReport } from '../../src/pipeline/transform-with-report.js';
import { IMPORT_AT, sample, tempDir } from '../helpers/run.js';

const T = Date.parse(IMPORT_AT) / 1000;

async function preview(file: string, extra: Record<string, unknown>) {
  const out = await tempDir();
  const cfg = buildTransformConfig({ input: sample(file), out, importAt: IMPORT_AT, maxRejectRate: 1, ...extra }, new Date());
  await transformWithReport(cfg, { now: () => new Date('2026-11-20T12:00:00Z') });
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  const clean = parse(await readFile(join(out, 'clean.csv')), { columns: true }) as Record<string, string>[];
  return { report, clean, out };
}

describe('report.json', () => {
  it('messy.csv: counts, reasons with their first rows, clamped samples', async () => {
    const { report } = await preview('messy.csv', {
      tz: 'America/New_York',
      map: ['userId=user_id', 'time=event_time', 'value=amount', 'currencyCode=currency'],
      param: ['note'],
    });
    expect(report.schemaVersion).toBe(2);
    expect(report.totals).toMatchObject({ read: 16, kept: 6, rejected: 9, dropped: 1, written: 6, clamped: 2, clampedRows: 2 });
    expect(report.rejected.byReason.map((r: { reason: string; count: number }) => [r.reason, r.count])).toEqual([
      ['ragged_row', 1],
      ['missing_user_id', 1],
      ['missing_event', 1],
      ['bad_time', 1],
      ['implausible_time', 1],
      ['future_time', 1],
      ['bad_value', 2],
      ['bad_currency', 1],
    ]);
    const badValue = report.rejected.byReason.find((r: { reason: string }) => r.reason === 'bad_value');
    expect(badValue.rows.map((r: { line: number }) => r.line)).toEqual([12, 14]);
    expect(badValue.rows[1].values).toEqual(['ü-10', 'café_visit', '2026-05-05 05:05:05', '3,5', '', 'decimal comma']);
    expect(report.rejected.sourceHeader).toEqual(['user_id', 'event', 'event_time', 'amount', 'currency', 'note']);
    expect(report.clamped.sample).toEqual([
      { file: sample('messy.csv'), line: 8, userId: 'u-6', event: 'signup', originalTime: '2019-05-04T16:00:00Z', newTime: '2025-11-25T00:00:00Z' },
      { file: sample('messy.csv'), line: 16, userId: 'u-12', event: 'purchase', originalTime: '2025-01-15T23:30:00Z', newTime: '2025-11-25T00:00:00Z' },
    ]);
    expect(report.clamped.byEvent).toEqual({ signup: 1, purchase: 1 });
    expect(report.dropped.byReason).toEqual([
      { reason: 'blank_line', count: 1, rows: [{ file: sample('messy.csv'), line: 11, message: 'blank line', values: [''] }] },
    ]);
    expect(report.warnings.map((w: { code: string }) => w.code)).toEqual(
      expect.arrayContaining(['campaigns_fire', 'analytics_7d', 'naive_times', 'quoted_values', 'rejected_rows', 'historical_permission']),
    );
    const purchase = report.events.find((e: { event: string }) => e.event === 'purchase');
    expect(purchase).toMatchObject({ occurrences: 2, clamped: 1, clampedShare: 50, valueByCurrency: { EUR: '12.50', USD: '99.00' } });
    expect(report.run).toMatchObject({
      importAt: IMPORT_AT,
      cutoff: '2025-11-22T00:00:00Z',
      clampTarget: '2025-11-25T00:00:00Z',
      launchBefore: '2025-11-22T00:00:00Z'.replace('2025', '2026'),
      timeZone: 'America/New_York',
    });
  });

  it('mobile-game.csv: histogram totals and the cost estimate agree with clean.csv', async () => {
    const { report, clean } = await preview('mobile-game.csv', { countColumn: 'count' });
    const sum = (k: 'input' | 'output') => report.histogram.buckets.reduce((s: number, b: Record<string, number>) => s + b[k]!, 0);
    expect(sum('input')).toBe(clean.length);
    expect(sum('output')).toBe(clean.length);
    expect(report.histogram.older).toBeNull();
    expect(report.histogram.newer).toBeNull();
    expect(report.histogram.unit).toBe('month');
    // recompute the billable lookups from the file as written
    let billable = 0;
    for (let i = 0; i < clean.length; i += 50) billable += new Set(clean.slice(i, i + 50).map((r) => r['userId'])).size;
    expect(report.cost.billableLookupsAsWritten).toBe(billable);
    const users = new Set(clean.map((r) => r['userId'])).size;
    expect(report.cost.distinctUsersEstimate).toBe(users);
    expect(report.cost.lowerBoundIfGroupedByUser).toBe(Math.max(users, Math.ceil(clean.length / 50)));
    const older = clean.filter((r) => Number(r['time']) < T - 7 * 86400).length;
    expect(report.warnings.find((w: { code: string }) => w.code === 'analytics_7d').message).toContain(`${Math.round((older / clean.length) * 10000) / 100}%`);
    for (const e of report.events) expect(e.occurrences).toBe(clean.filter((r) => r['event'] === e.event).length);
  });

  it('a version-1 report.json (an older run directory that gets its job results later) still renders', async () => {
    const { report } = await preview('messy.csv', { map: ['userId=user_id', 'time=event_time', 'value=amount', 'currencyCode=currency'] });
    const v1 = structuredClone(report);
    v1.schemaVersion = 1;
    delete v1.histogram.older;
    delete v1.histogram.newer;
    for (const e of v1.events) e.valueByCurrency = Object.fromEntries(Object.entries(e.valueByCurrency).map(([c, v]) => [c, Number(v)]));
    const html = renderReportHtml(v1);
    expect(html).toContain('12.5 EUR');
    expect(html).not.toContain('class="clip-note"');
  });
});
