import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, readOutputs, sample, tempDir } from '../helpers/run.js';

const T = Date.parse(IMPORT_AT) / 1000;
const TARGET = T - 360 * 86400;
const CUTOFF = T + 2 * 86400 - 365 * 86400;

function checkCleanRows(clean: Record<string, string>[]) {
  for (const r of clean) {
    expect(r['time']).toMatch(/^\d{10}$/);
    const t = Number(r['time']);
    expect(t).toBeLessThanOrEqual(T);
    expect(t).toBeGreaterThanOrEqual(CUTOFF);
  }
}

describe('lp-backfill transform on the samples', () => {
  it('messy.csv: BOM, CRLF, ; delimiter, quoted newlines, every bad row with its line and reason', async () => {
    const out = await tempDir();
    const r = await runCli([
      'transform',
      sample('messy.csv'),
      '--out',
      out,
      '--import-at',
      IMPORT_AT,
      '--tz',
      'America/New_York',
      '--map',
      'userId=user_id',
      '--map',
      'time=event_time',
      '--map',
      'value=amount',
      '--map',
      'currencyCode=currency',
      '--param',
      'note',
      '--max-reject-rate',
      '0.6',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('read 16 = kept 6 + rejected 9 + dropped 1');
    const { clean, rejects, summaryJson } = await readOutputs(out);
    const raw = await readFile(join(out, 'clean.csv'));
    expect(raw.subarray(0, 3).toString('hex')).not.toBe('efbbbf');
    expect(raw.toString().split('\n')[0]).toBe('userId,event,time,value,currencyCode,params.note');
    checkCleanRows(clean);
    // --order user, the default: by userId (its bytes), then time
    expect(clean.map((c) => c['userId'])).toEqual(['u-1', 'u-12', 'u-13', 'u-2', 'u-6', 'u-7']);
    expect(clean.find((c) => c['userId'] === 'u-7')!['params.note']).toBe('line one\r\nline two');
    expect(clean.find((c) => c['userId'] === 'u-6')!['time']).toBe(String(TARGET));
    expect(clean.find((c) => c['userId'] === 'u-12')).toMatchObject({ time: String(TARGET), currencyCode: 'USD' });
    // 01:30 on 2026-11-03 is not a DST day in New York (that was 11-01): EST, −5
    expect(clean.find((c) => c['userId'] === 'u-13')!['time']).toBe(String(Date.parse('2026-11-03T06:30:00Z') / 1000));
    expect(rejects.map((x) => [x['line'], x['reason']])).toEqual([
      ['4', 'missing_user_id'],
      ['5', 'bad_currency'],
      ['6', 'future_time'],
      ['7', 'implausible_time'],
      ['12', 'bad_value'],
      ['13', 'missing_event'],
      ['14', 'bad_value'],
      ['15', 'bad_time'],
      ['18', 'ragged_row'],
    ]);
    expect(rejects[6]).toMatchObject({ user_id: 'ü-10', event: 'café_visit', amount: '3,5' });
    expect(summaryJson.counts).toMatchObject({ read: 16, kept: 6, rejected: 9, dropped: 1, written: 6, clamped: 2, naiveTimeRows: 6 });
    expect(summaryJson.counts.droppedByReason.blank_line).toBe(1);
    expect(summaryJson.config).toMatchObject({
      importAt: IMPORT_AT,
      timeZone: 'America/New_York',
      clampTarget: '2025-11-25T00:00:00Z',
      cutoff: '2025-11-22T00:00:00Z',
    });
    expect(summaryJson.inputs).toEqual([
      expect.objectContaining({ name: sample('messy.csv'), delimiter: ';', bytes: (await readFile(sample('messy.csv'))).length }),
    ]);
    expect(summaryJson.conservation.ok).toBe(true);
  });

  it('mobile-game.csv: ISO offsets, a count column, purchases with value and currency', async () => {
    const out = await tempDir();
    const r = await runCli([
      'transform',
      sample('mobile-game.csv'),
      '--out',
      out,
      '--import-at',
      IMPORT_AT,
      '--count-column',
      'count',
      '--original-time-param',
      'original_time',
    ]);
    expect(r.code).toBe(0);
    const { clean, summaryJson } = await readOutputs(out);
    const input = (await readFile(sample('mobile-game.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const expectedRows = input.reduce((s, f) => s + Number(f[3]), 0);
    expect(clean).toHaveLength(expectedRows);
    expect(summaryJson.counts.droppedByReason.zero_count).toBe(input.filter((f) => f[3] === '0').length);
    checkCleanRows(clean);
    for (const c of clean) {
      if (c['time'] === String(TARGET)) expect(Date.parse(c['params.original_time']!) / 1000).toBeLessThan(CUTOFF);
      else expect(c['params.original_time']).toBe('');
    }
    expect(clean.filter((c) => c['event'] === 'purchase').every((c) => /^\d+\.\d\d$/.test(c['value']!) && /^(USD|EUR|JPY)$/.test(c['currencyCode']!))).toBe(
      true,
    );
    expect(Object.keys(clean[0]!)).toEqual(['userId', 'event', 'time', 'value', 'currencyCode', 'params.level', 'params.mode', 'params.original_time']);
  });

  it('says at once when a past --import-at makes the output too stale to launch, and not otherwise', async () => {
    const past = await runCli(['transform', sample('mobile-game.csv'), '--out', await tempDir(), '--import-at', IMPORT_AT, '--count-column', 'count']);
    expect(past.code).toBe(0);
    expect(past.stdout).toContain(
      `STALE      the launch deadline ${new Date(Date.parse(IMPORT_AT) + 2 * 86400_000).toISOString().replace('.000', '')} has passed`,
    );
    const current = await runCli(['transform', sample('mobile-game.csv'), '--out', await tempDir(), '--count-column', 'count']);
    expect(current.code).toBe(0);
    expect(current.stdout).toContain('launch before');
    expect(current.stdout).not.toContain('STALE');
  });

  it('ecommerce-clickstream.csv: epoch ms, item ids as params, unmapped columns listed', async () => {
    const out = await tempDir();
    // --order input: the rows are compared with the source row by row below
    const r = await runCli([
      'transform',
      sample('ecommerce-clickstream.csv'),
      '--out',
      out,
      '--import-at',
      IMPORT_AT,
      '--order',
      'input',
      '--map',
      'userId=visitor_id',
      '--map',
      'event=event_name',
      '--map',
      'time=ts_ms',
      '--param',
      'item_id',
      '--param',
      'category',
      '--param',
      'page_url=url',
    ]);
    expect(r.code).toBe(0);
    const { clean, summaryJson } = await readOutputs(out);
    expect(clean).toHaveLength(60);
    checkCleanRows(clean);
    expect(summaryJson.config.leftOutColumns).toEqual(['session_id']);
    expect(summaryJson.counts.timeFormats).toEqual({ 'unix-ms': 60 });
    expect(clean.some((c) => c['params.url'] === 'https://shop.example.com/search?q=red,shoes')).toBe(true);
    expect(clean.some((c) => c['params.url'] === 'https://shop.example.com/p?x="quoted"')).toBe(true);
    const sourceMs = (await readFile(sample('ecommerce-clickstream.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[2]) / 1000);
    for (const [i, c] of clean.entries()) expect(Number(c['time'])).toBe(sourceMs[i]! < CUTOFF ? TARGET : Math.floor(sourceMs[i]!));
  });

  it('reads gzip from stdin and gives the same clean.csv as the plain file', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const args = ['--import-at', IMPORT_AT, '--count-column', 'count'];
    expect((await runCli(['transform', sample('mobile-game.csv'), '--out', a, ...args])).code).toBe(0);
    const gz = gzipSync(await readFile(sample('mobile-game.csv')));
    const r = await runCli(['transform', '-', '--out', b, ...args], { stdin: gz });
    expect(r.code).toBe(0);
    expect(await readFile(join(b, 'clean.csv'), 'utf8')).toBe(await readFile(join(a, 'clean.csv'), 'utf8'));
  });

  it('reads several inputs one after the other (plain and gzip); rejects name their file and line', async () => {
    const dir = await tempDir();
    const a = join(dir, 'day1.csv');
    const b = join(dir, 'day2.csv.gz');
    await writeFile(a, 'userId,event,time\nu1,open,2026-11-01T00:00:00Z\n,open,2026-11-01T00:00:00Z\n');
    await writeFile(b, gzipSync('userId,event,time\nu2,open,2026-11-02T00:00:00Z\nu3,open,2026-11-02T00:00:00Z\nu4,,2026-11-02T00:00:00Z\n'));
    const out = join(dir, 'out');
    const r = await runCli(['transform', a, b, '--out', out, '--import-at', IMPORT_AT, '--max-reject-rate', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { clean, rejects, summaryJson } = await readOutputs(out);
    expect(clean.map((c) => c['userId'])).toEqual(['u1', 'u2', 'u3']);
    expect(rejects.map((x) => [x['file'], x['line'], x['reason']])).toEqual([
      [a, '3', 'missing_user_id'],
      [b, '4', 'missing_event'],
    ]);
    expect(summaryJson.inputs.map((i: { name: string }) => i.name)).toEqual([a, b]);
    expect(summaryJson.conservation.rows).toBe('read 5 = kept 3 + rejected 2 + dropped 0');
  });

  it('refuses inputs whose headers differ, before any output (exit 2), and - mixed with files', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    await writeFile(a, 'userId,event,time\nu1,open,2026-11-01T00:00:00Z\n');
    await writeFile(b, 'userId,time,event\nu1,2026-11-01T00:00:00Z,open\n');
    const out = join(dir, 'out');
    const r = await runCli(['transform', a, b, '--out', out, '--import-at', IMPORT_AT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BAD_HEADER');
    expect(r.stderr).toContain(`${b}: userId,time,event`);
    await expect(readFile(join(out, 'clean.csv'))).rejects.toThrow();
    const mixed = await runCli(['transform', a, '-', '--out', out]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('cannot be combined');
  });

  it('stops before any output on a missing column, naming the header and the fix (exit 2)', async () => {
    const out = join(await tempDir(), 'run');
    const r = await runCli(['transform', sample('ecommerce-clickstream.csv'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Header: visitor_id,event_name,ts_ms');
    expect(r.stderr).toContain('--map userId=visitor_id');
    await expect(readFile(join(out, 'clean.csv'))).rejects.toThrow();
  });

  it('exits 3 above --max-reject-rate after writing everything', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, 'userId,event,time\nu1,open,2026-11-01T00:00:00Z\n,open,2026-11-01T00:00:00Z\n');
    const out = join(dir, 'out');
    const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--max-reject-rate', '0.1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('REJECT_RATE');
    const { clean, rejects } = await readOutputs(out);
    expect([clean.length, rejects.length]).toEqual([1, 1]);
  });

  it('exits 2 on an unsafe time configuration and lists every problem', async () => {
    const r = await runCli(['transform', sample('mobile-game.csv'), '--out', await tempDir(), '--max-delay', '9d', '--tz', 'Nowhere/Zone']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tz:');
    const r2 = await runCli(['transform', sample('mobile-game.csv'), '--out', await tempDir(), '--max-delay', '9d']);
    expect(r2.stderr).toContain('max-delay');
  });

  it('has --help on every command and --version', async () => {
    expect((await runCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await runCli(['transform', '--help']);
    for (const o of [
      '--map',
      '--param',
      '--import-at',
      '--max-delay',
      '--clamp-age',
      '--count-column',
      '--dedupe',
      '--original-time-param',
      '--max-reject-rate',
      '--time-format',
      '--tz',
    ])
      expect(h.stdout).toContain(o);
  });
});
