// --kind totals with each event preset through the built CLI (issue 19: "exact end-to-end tests
// per preset and kind"). Every expected clean.csv is written by hand from the records (not copied
// from the tool's output), from docs/kinds.md "totals", docs/inputs-and-presets.md "Presets" and
// ../shared/VENDOR-EXPORTS.md. Import at 2026-11-20T00:00:00Z (--max-delay 2d, --clamp-age 360d):
// the cutoff is 2025-11-22T00:00:00Z = 1763769600, older events move to 2025-11-25T00:00:00Z =
// 1764028800. The samples have no clamped event and no dotted name, so each preset also gets a
// small input of its own in the vendor's shape with: a clamped event, a kept event older than the
// clamp target (so the user's firstTime is the kept one, not the clamped one), a value sum that
// float arithmetic gets wrong (0.1 + 0.2), a duplicate for the preset's --dedupe, a dotted event
// name (rejected as dot_in_event_name) and records that are no events where the preset drops them.
//
// Times used (date -u -d … +%s):
//   2025-01-01T00:00:00Z 1735689600 (→ clamped to 1764028800)
//   2025-11-23T00:00:00Z 1763856000 (after the cutoff: kept as it is, before the clamp target)
//   2026-09-01T08:00:00Z 1788249600    2026-09-01T10:00:00Z 1788256800
//   2026-09-02T10:00:00Z 1788343200    2026-09-03T00:00:00Z 1788393600
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, sample, tempDir } from '../helpers/run.js';

const CLAMPED = '1764028800';

async function totals(input: string, ...args: string[]) {
  const out = await tempDir();
  const r = await runCli(['transform', input, '--out', out, '--kind', 'totals', '--import-at', IMPORT_AT, '--max-reject-rate', '1', '--no-report', ...args]);
  const text = (name: string) => readFile(join(out, name), 'utf8');
  return {
    r,
    clean: await text('clean.csv').catch(() => ''),
    rejects: await text('rejects.csv').catch(() => ''),
    summary: JSON.parse(await text('summary.json').catch(() => '{}')),
  };
}

const csv = (...rows: string[]) => rows.join('\n') + '\n';
const lines = (...records: string[]) => records.join('\n') + '\n';
/** A totals row: the user id, then per event of the header its four cells (null: the user has none of it). */
const row = (user: string, ...events: ([string, string, string, string] | null)[]) => [user, ...events.flatMap((e) => e ?? ['', '', '', ''])].join(',');
const header = (...events: string[]) =>
  ['userId', ...events.flatMap((e) => ['count', 'firstTime', 'lastTime', 'value'].map((f) => `events.${e}.${f}`))].join(',');

/** The three conservation lines of issue 19, checked on every run. */
function expectConserved(
  summary: { counts: Record<string, number>; conservation: { ok: boolean } },
  c: { read: number; kept: number; rejected: number; dropped: number; users: number },
) {
  expect(c.read).toBe(c.kept + c.rejected + c.dropped);
  expect(summary.counts).toMatchObject({ read: c.read, kept: c.kept, rejected: c.rejected, dropped: c.dropped, occurrences: c.kept, written: c.users });
  expect(summary.conservation.ok).toBe(true);
}

/** Σ of the count cells of a clean.csv (no quoted cells in these files). */
function countSum(clean: string): number {
  const [head, ...rows] = clean.trimEnd().split('\n');
  const cols = head!.split(',').flatMap((h, i) => (h.endsWith('.count') ? [i] : []));
  return rows.reduce((s, r) => s + cols.reduce((t, i) => t + Number(r.split(',')[i] || 0), 0), 0);
}

function zip(entries: [string, Buffer][]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of entries) z.addBuffer(data, name, { mtime: new Date(0), compress: true });
  z.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => parts.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    z.outputStream.on('error', reject);
  });
}

describe('--kind totals on the vendor samples (exact clean.csv)', () => {
  it('amplitude zip: [Amplitude] and $identify dropped, $price × $quantity as the value, the anonymous record under its device_id', async () => {
    const { r, clean, rejects, summary } = await totals(sample('amplitude-export.zip'), '--preset', 'amplitude', '--anonymous', 'device_id', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('Add To Cart', 'Level Up', 'Open App', 'Purchase'),
        row('1234567890123456789', null, ['1', '1790965800', '1790965800', ''], null, null),
        // 09:00:05.123456: the fraction dropped; Purchase: 9.99 × 3
        row('amp-1', ['1', '1790845205', '1790845205', ''], null, null, ['1', '1790845800', '1790845800', '29.97']),
        // $revenue "4.5" wins over $price × $quantity (2)
        row('amp-2', null, null, null, ['1', '1790965920', '1790965920', '4.5']),
        row('dev-9', null, null, ['1', '1790965860', '1790965860', ''], null),
      ),
    );
    expect(rejects).toContain(',2,bad_json,');
    expectConserved(summary, { read: 8, kept: 5, rejected: 1, dropped: 2, users: 4 });
    expect(summary.counts.droppedByReason).toMatchObject({ not_track: 2 });
    expect(countSum(clean)).toBe(5);
  });

  it('segment archive: identify and page dropped, the duplicate messageId counted once, revenue/value/total as the value, anonymousId', async () => {
    const { r, clean, summary } = await totals(sample('segment-archive.ndjson.gz'), '--preset', 'segment', '--dedupe', '--anonymous', 'anonymousId');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('Order Completed', 'Signed Up', 'Video Played'),
        row('1234567890123456789', null, null, ['1', '1790965800', '1790965800', '3']),
        // properties.total "12.00" (no revenue, no value): its digits kept
        row('anon-7', null, ['1', '1791011730', '1791011730', '12.00'], null),
        row('seg-1', ['1', '1790845200', '1790845200', '25.5'], null, null),
      ),
    );
    expectConserved(summary, { read: 7, kept: 3, rejected: 1, dropped: 3, users: 3 });
    expect(summary.counts.droppedByReason).toMatchObject({ not_track: 2, duplicate: 1 });
    expect(summary.counts.rejectedByReason).toMatchObject({ bad_json: 1 });
  });

  it('segment archive without --dedupe: the delivered-twice Order Completed counts 2 and its value sums exactly (25.5 + 25.5 = 51.0)', async () => {
    const { r, clean, summary } = await totals(sample('segment-archive.ndjson.gz'), '--preset', 'segment');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('Order Completed', 'Video Played'),
        row('1234567890123456789', null, ['1', '1790965800', '1790965800', '3']),
        row('seg-1', ['2', '1790845200', '1790845200', '51.0'], null),
      ),
    );
    // the anonymous Signed Up is rejected (missing_user_id) without --anonymous
    expectConserved(summary, { read: 7, kept: 3, rejected: 2, dropped: 2, users: 2 });
    expect(summary.counts.rejectedByReason).toMatchObject({ bad_json: 1, missing_user_id: 1 });
  });

  const GA4_SAMPLE = csv(
    header('level_up', 'purchase', 'session_start'),
    row('1234567890123456789', ['1', '1790965800', '1790965800', ''], null, null),
    // user_id null: the user_pseudo_id; 1790845200123456 µs → whole seconds
    row('1712345.678', null, null, ['1', '1790845200', '1790845200', '']),
    row('ga-1', null, ['1', '1790845800', '1790845800', '19.99'], null),
  );

  it('ga4 NDJSON: µs timestamps as strings and numbers, the value event parameter, a 19-digit user_id, user_pseudo_id for the anonymous row', async () => {
    const { r, clean, summary } = await totals(sample('ga4-export.ndjson'), '--preset', 'ga4', '--anonymous', 'user_pseudo_id', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(GA4_SAMPLE);
    expectConserved(summary, { read: 4, kept: 3, rejected: 1, dropped: 0, users: 3 });
  });

  it('ga4 Parquet: the same rows as the NDJSON export give the same totals', async () => {
    const { r, clean, summary } = await totals(sample('ga4-export.parquet'), '--preset', 'ga4', '--anonymous', 'user_pseudo_id');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(GA4_SAMPLE);
    expectConserved(summary, { read: 3, kept: 3, rejected: 0, dropped: 0, users: 3 });
  });

  it('posthog JSON Lines: $pageview kept as a name, a naive timestamp read as UTC, the duplicate uuid counted once, properties.amount as the value', async () => {
    const { r, clean, summary } = await totals(sample('posthog-export.jsonl'), '--preset', 'posthog', '--dedupe', '--map', 'value=properties.amount');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('$pageview', 'checkout', 'level up'),
        row('1234567890123456789', null, null, ['1', '1790965800', '1790965800', '']),
        row('ph-1', ['1', '1790845200', '1790845200', ''], ['1', '1790845800', '1790845800', '19.90'], null),
      ),
    );
    expectConserved(summary, { read: 5, kept: 3, rejected: 1, dropped: 1, users: 2 });
    expect(summary.counts.droppedByReason).toMatchObject({ duplicate: 1 });
  });
});

describe('--kind totals on small vendor-shaped inputs: clamp, exact sums, dedupe, dotted names (exact clean.csv)', () => {
  it('amplitude (a zip of .json.gz): $insert_id dedupe over differing uuids, 0.1 × 3 + $revenue "1.10" = 1.40, a kept pre-target time is the firstTime', async () => {
    const records = lines(
      '{"event_type":"[Amplitude] Start Session","user_id":"a-1","device_id":"d-1","event_time":"2026-09-01 08:00:00.000000","uuid":"u-0","event_properties":{}}',
      '{"event_type":"Purchase","user_id":"a-1","device_id":"d-1","event_time":"2026-09-01 10:00:00.000000","$insert_id":"i-1","uuid":"u-1","event_properties":{"$price":0.1,"$quantity":3}}',
      // delivered twice: the same $insert_id, another uuid → a duplicate ($insert_id, else uuid)
      '{"event_type":"Purchase","user_id":"a-1","device_id":"d-1","event_time":"2026-09-01 10:00:00.000000","$insert_id":"i-1","uuid":"u-1b","event_properties":{"$price":0.1,"$quantity":3}}',
      '{"event_type":"Purchase","user_id":"a-1","device_id":"d-1","event_time":"2026-09-02T10:00:00.000000","$insert_id":"i-2","uuid":"u-2","event_properties":{"$revenue":"1.10","$price":5,"$quantity":1}}',
      '{"event_type":"$identify","user_id":"a-1","device_id":"d-1","event_time":"2026-09-01 08:00:01.000000","uuid":"u-3","user_properties":{"$set":{"plan":"pro"}}}',
      '{"event_type":"Open App","user_id":"a-2","device_id":"d-2","event_time":"2025-01-01 00:00:00.000000","uuid":"u-4","event_properties":{}}',
      '{"event_type":"Open App","user_id":"a-2","device_id":"d-2","event_time":"2025-11-23 00:00:00.000000","uuid":"u-5","event_properties":{}}',
      '{"event_type":"level.up","user_id":"a-3","device_id":"d-3","event_time":"2026-09-01 08:00:00.000000","uuid":"u-6","event_properties":{}}',
      '{"event_type":"Open App","user_id":"a-3","device_id":"d-3","event_time":"2026-09-03 00:00:00.000000","uuid":"u-7","event_properties":{}}',
      '{"event_type":"Open App","user_id":null,"device_id":"d-9","event_time":"2026-09-01 08:00:00.000000","uuid":"u-8","event_properties":{}}',
    );
    const input = join(await tempDir(), 'export.zip');
    await writeFile(input, await zip([['100/100_2026-09-01_0#0.json.gz', gzipSync(records)]]));
    const { r, clean, rejects, summary } = await totals(input, '--preset', 'amplitude', '--anonymous', 'device_id', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('Open App', 'Purchase'),
        row('a-1', null, ['2', '1788256800', '1788343200', '1.40']),
        // 2025-01-01 is clamped to 1764028800, later than the kept 2025-11-23 (1763856000)
        row('a-2', ['2', '1763856000', CLAMPED, ''], null),
        row('a-3', ['1', '1788393600', '1788393600', ''], null),
        row('d-9', ['1', '1788249600', '1788249600', ''], null),
      ),
    );
    expect(rejects).toMatch(/,8,dot_in_event_name,/);
    expectConserved(summary, { read: 10, kept: 6, rejected: 1, dropped: 3, users: 4 });
    expect(summary.counts.droppedByReason).toMatchObject({ not_track: 2, duplicate: 1 });
    expect(summary.counts.rejectedByReason).toMatchObject({ dot_in_event_name: 1, bad_json: 0 });
    expect(summary.totals).toMatchObject({ eventNames: 2, users: 4, clampedFirstTimes: 0, clampedLastTimes: 1, usersWithClampedTimes: 1 });
    expect(countSum(clean)).toBe(6);
  });

  it('segment (gzipped archive): only track calls, messageId dedupe, revenue 0.1 + 0.2 = 0.3, value 3 + total "2.50" = 5.50, a clamped call', async () => {
    const input = join(await tempDir(), 'archive.gz');
    await writeFile(
      input,
      gzipSync(
        lines(
          '{"type":"identify","userId":"s-1","messageId":"m-0","timestamp":"2026-09-01T08:00:00.000Z","traits":{"plan":"pro"}}',
          '{"type":"track","event":"Order Completed","userId":"s-1","messageId":"m-1","timestamp":"2026-09-01T10:00:00.000Z","properties":{"revenue":0.1}}',
          '{"type":"track","event":"Order Completed","userId":"s-1","messageId":"m-1","timestamp":"2026-09-01T10:00:00.000Z","properties":{"revenue":0.1}}',
          '{"type":"track","event":"Order Completed","userId":"s-1","messageId":"m-2","timestamp":"2026-09-02T10:00:00Z","properties":{"revenue":0.2}}',
          '{"type":"track","event":"Signed Up","userId":"s-2","messageId":"m-3","timestamp":"2025-01-01T00:00:00.000Z","properties":{}}',
          '{"type":"track","event":"video.played","userId":"s-3","messageId":"m-4","timestamp":"2026-09-01T08:00:00.000Z","properties":{}}',
          '{"type":"track","event":"Video Played","userId":"s-3","messageId":"m-5","timestamp":"2026-09-03T00:00:00.000Z","properties":{"value":3}}',
          '{"type":"track","event":"Video Played","userId":"s-3","messageId":"m-6","timestamp":"2026-09-01T08:00:00.000Z","properties":{"total":"2.50"}}',
          '{"type":"page","name":"Home","userId":"s-4","messageId":"m-7","timestamp":"2026-09-01T08:00:00.000Z","properties":{"path":"/"}}',
        ),
      ),
    );
    const { r, clean, rejects, summary } = await totals(input, '--preset', 'segment', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('Order Completed', 'Signed Up', 'Video Played'),
        row('s-1', ['2', '1788256800', '1788343200', '0.3'], null, null),
        row('s-2', null, ['1', CLAMPED, CLAMPED, ''], null),
        // s-4 has only a page call: no row
        row('s-3', null, null, ['2', '1788249600', '1788393600', '5.50']),
      ),
    );
    expect(rejects).toMatch(/\n6,dot_in_event_name,/);
    expectConserved(summary, { read: 9, kept: 5, rejected: 1, dropped: 3, users: 3 });
    expect(summary.counts.droppedByReason).toMatchObject({ not_track: 2, duplicate: 1 });
    expect(summary.totals).toMatchObject({ eventNames: 3, users: 3, clampedFirstTimes: 1, clampedLastTimes: 1, usersWithClampedTimes: 1 });
    expect(countSum(clean)).toBe(5);
  });

  // GA4 rows: the same records as NDJSON (bq extract: INT64 as strings or numbers) and as Parquet.
  type Ga4 = { ts: bigint; name: string; user: string | null; pseudo: string; value?: { int?: bigint; double?: number } };
  const GA4_ROWS: Ga4[] = [
    { ts: 1788256800000000n, name: 'purchase', user: 'g-1', pseudo: '1.1', value: { double: 0.1 } },
    // the same row again: GA4 has no event id, --dedupe compares whole rows
    { ts: 1788256800000000n, name: 'purchase', user: 'g-1', pseudo: '1.1', value: { double: 0.1 } },
    { ts: 1788343200000000n, name: 'purchase', user: 'g-1', pseudo: '1.1', value: { double: 0.2 } },
    // half a second later: another row (its time's fraction is dropped), value as int_value
    { ts: 1788343200500000n, name: 'purchase', user: 'g-1', pseudo: '1.1', value: { int: 2n } },
    { ts: 1735689600000000n, name: 'session_start', user: 'g-2', pseudo: '2.2' },
    { ts: 1763856000000000n, name: 'session_start', user: 'g-2', pseudo: '2.2' },
    { ts: 1788249600000000n, name: 'level.up', user: 'g-3', pseudo: '3.3' },
    { ts: 1788393600000000n, name: 'level_up', user: 'g-3', pseudo: '3.3' },
    { ts: 1788249600000000n, name: 'session_start', user: null, pseudo: '777.1' },
  ];
  const slot = (v: Ga4['value']) => ({ string_value: null, int_value: v?.int ?? null, float_value: null, double_value: v?.double ?? null });
  const params = (g: Ga4) =>
    g.value
      ? [
          { key: 'value', value: slot(g.value) },
          { key: 'currency', value: { ...slot(undefined), string_value: 'USD' } },
        ]
      : [];
  const GA4_EXPECTED = csv(
    header('level_up', 'purchase', 'session_start'),
    row('777.1', null, null, ['1', '1788249600', '1788249600', '']),
    // 0.1 + 0.2 + 2 = 2.3 (the duplicate row counted once)
    row('g-1', null, ['3', '1788256800', '1788343200', '2.3'], null),
    row('g-2', null, null, ['2', '1763856000', CLAMPED, '']),
    row('g-3', ['1', '1788393600', '1788393600', ''], null, null),
  );

  it('ga4 NDJSON: whole-row dedupe, double and int value parameters summed exactly, the clamp, user_pseudo_id', async () => {
    const ndjson = GA4_ROWS.map((g, i) =>
      JSON.stringify(
        {
          event_date: '20260901',
          // strings on even lines, numbers on odd ones (the bq extract writes INT64 as strings)
          event_timestamp: i % 2 === 0 ? String(g.ts) : Number(g.ts),
          event_name: g.name,
          user_id: g.user,
          user_pseudo_id: g.pseudo,
          event_params: params(g),
        },
        (_k, v) => (typeof v === 'bigint' ? String(v) : v),
      ),
    );
    const input = join(await tempDir(), 'events.ndjson');
    await writeFile(input, lines(...ndjson));
    const { r, clean, rejects, summary } = await totals(input, '--preset', 'ga4', '--anonymous', 'user_pseudo_id', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(GA4_EXPECTED);
    expect(rejects).toMatch(/\n7,dot_in_event_name,/);
    expectConserved(summary, { read: 9, kept: 7, rejected: 1, dropped: 1, users: 4 });
    expect(summary.counts.droppedByReason).toMatchObject({ duplicate: 1 });
    expect(summary.totals).toMatchObject({ eventNames: 3, users: 4, clampedFirstTimes: 0, clampedLastTimes: 1, usersWithClampedTimes: 1 });
    expect(countSum(clean)).toBe(7);
  });

  it('ga4 Parquet: the same rows as a BigQuery Parquet export give the same totals', async () => {
    const schema = [
      { name: 'root', num_children: 5 },
      { name: 'event_timestamp', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'event_name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'user_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'user_pseudo_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'event_params', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'value', repetition_type: 'OPTIONAL', num_children: 4 },
      { name: 'string_value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'int_value', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'float_value', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'double_value', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    ];
    const buf = parquetWriteBuffer({
      schema: schema as never,
      rowGroupSize: 4,
      columnData: [
        { name: 'event_timestamp', data: GA4_ROWS.map((g) => g.ts) },
        { name: 'event_name', data: GA4_ROWS.map((g) => g.name) },
        { name: 'user_id', data: GA4_ROWS.map((g) => g.user) },
        { name: 'user_pseudo_id', data: GA4_ROWS.map((g) => g.pseudo) },
        { name: 'event_params', data: GA4_ROWS.map(params) },
      ],
    });
    const input = join(await tempDir(), 'events.parquet');
    await writeFile(input, Buffer.from(buf));
    const { r, clean, rejects, summary } = await totals(input, '--preset', 'ga4', '--anonymous', 'user_pseudo_id', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(GA4_EXPECTED);
    expect(rejects).toMatch(/\n7,dot_in_event_name,/);
    expectConserved(summary, { read: 9, kept: 7, rejected: 1, dropped: 1, users: 4 });
    expect(countSum(clean)).toBe(7);
  });

  it('posthog (JSON Lines): uuid dedupe, amount "0.10" + "0.20" = 0.30, a naive and an offset timestamp, the amount inside properties given as a JSON string, a clamped $pageview', async () => {
    const input = join(await tempDir(), 'export.jsonl');
    await writeFile(
      input,
      lines(
        '{"uuid":"c-1","event":"checkout","distinct_id":"p-1","timestamp":"2026-09-01T10:00:00.000000+00:00","properties":{"$lib":"web","amount":"0.10"}}',
        '{"uuid":"c-1","event":"checkout","distinct_id":"p-1","timestamp":"2026-09-01T10:00:00.000000+00:00","properties":{"$lib":"web","amount":"0.10"}}',
        '{"uuid":"c-2","event":"checkout","distinct_id":"p-1","timestamp":"2026-09-02 10:00:00.000000","properties":{"amount":"0.20"}}',
        '{"uuid":"c-3","event":"$pageview","distinct_id":"p-2","timestamp":"2025-01-01T00:00:00Z","properties":{"$current_url":"https://example.com/"}}',
        '{"uuid":"c-4","event":"$pageview","distinct_id":"p-2","timestamp":"2026-09-03T02:00:00+02:00","properties":{}}',
        '{"uuid":"c-5","event":"level.up","distinct_id":"p-3","timestamp":"2026-09-01T08:00:00Z","properties":{}}',
        '{"uuid":"c-6","event":"level up","distinct_id":"p-3","timestamp":"2026-09-01T08:00:00Z","properties":"{\\"level\\":2,\\"amount\\":\\"1.5\\"}"}',
        // no amount: counted, adds nothing to the value
        '{"uuid":"c-7","event":"checkout","distinct_id":"p-1","timestamp":"2026-09-01T08:00:00Z","properties":{"$lib":"web"}}',
      ),
    );
    const { r, clean, rejects, summary } = await totals(input, '--preset', 'posthog', '--dedupe', '--map', 'value=properties.amount');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('$pageview', 'checkout', 'level up'),
        row('p-1', null, ['3', '1788249600', '1788343200', '0.30'], null),
        // 2025-01-01 clamped; 02:00+02:00 is 00:00Z
        row('p-2', ['2', CLAMPED, '1788393600', ''], null, null),
        // the amount read from properties given as a JSON string
        row('p-3', null, null, ['1', '1788249600', '1788249600', '1.5']),
      ),
    );
    expect(rejects).toMatch(/\n6,dot_in_event_name,/);
    expectConserved(summary, { read: 8, kept: 6, rejected: 1, dropped: 1, users: 3 });
    expect(summary.counts.droppedByReason).toMatchObject({ duplicate: 1 });
    expect(summary.totals).toMatchObject({ eventNames: 3, users: 3, clampedFirstTimes: 1, clampedLastTimes: 0, usersWithClampedTimes: 1 });
    expect(countSum(clean)).toBe(6);
    expect(r.stdout).toContain(
      'written    3 rows, one per user (--kind totals): 6 occurrences of 3 event name(s); 1 firstTime and 0 lastTime cells hold a clamped time',
    );
  });
});
