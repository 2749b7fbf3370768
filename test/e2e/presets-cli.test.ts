// The vendor samples through the built CLI, each with its exact clean.csv. The expected rows are
// written by hand from the vendors' documented shapes (../shared/VENDOR-EXPORTS.md) and the time
// rule: import at 2026-11-20T00:00:00Z, so the cutoff is 2025-11-22 and older events move to
// T − 360 days = 2025-11-25T00:00:00Z = 1764028800.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, sample, tempDir } from '../helpers/run.js';

async function transform(input: string, ...args: string[]) {
  const out = await tempDir();
  const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--order', 'input', '--max-reject-rate', '1', '--no-report', ...args]);
  const text = (name: string) => readFile(join(out, name), 'utf8');
  return {
    r,
    out,
    clean: await text('clean.csv').catch(() => ''),
    rejects: await text('rejects.csv').catch(() => ''),
    summary: JSON.parse(await text('summary.json').catch(() => '{}')),
  };
}

const csv = (...rows: string[]) => rows.join('\n') + '\n';

describe('presets on the vendor samples (exact clean.csv)', () => {
  it('mixpanel: $user_id over distinct_id, seconds and ms, $/mp_ keys left out, nested objects flattened, a 19-digit id intact, $insert_id dedupe, a broken line', async () => {
    const { r, clean, rejects, summary } = await transform(
      sample('mixpanel-export.ndjson'),
      '--preset',
      'mixpanel',
      '--dedupe',
      '--map',
      'value=properties.price',
      '--map',
      'currencyCode=properties.currency',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,event,time,value,currencyCode,params.currency,params.items,params.level,params.plan,params.price,params.referrer.campaign,params.referrer.source,params.step',
        'u-100,Sign Up,1790845200,,,,,,pro,,autumn,ads,',
        'u-100,Purchase,1790845800,9.99,EUR,EUR,"[""sword"",""shield""]",,,9.99,,,',
        '1234567890123456789,Level Up,1790965800,,,,,7,,,,,',
        'u-200,Tutorial Done,1764028800,,,,,,,,,,3',
      ),
    );
    expect(rejects.split('\n')[0]).toBe('line,reason,message,record');
    expect(rejects.split('\n')[1]).toMatch(
      /^5,bad_json,not valid JSON: .*,"\{""event"":""Purchase"",""properties"":\{""time"":1790965800,""distinct_id"":""u-300"","$/,
    );
    expect(summary.counts).toMatchObject({ read: 6, kept: 4, rejected: 1, dropped: 1, clamped: 1 });
    expect(summary.counts.rejectedByReason.bad_json).toBe(1);
    expect(summary.counts.droppedByReason.duplicate).toBe(1);
    expect(summary.inputs[0]).toMatchObject({ format: 'ndjson', bytes: 868 });
    expect(summary.json).toMatchObject({ preset: 'mixpanel', scannedRecords: 5, anonymousUserRows: 0, paramsLeftOut: [] });
  });

  it('mixpanel with --source-tz: a pre-2023 project exports local wall-clock time as if it were UTC', async () => {
    const { r, clean } = await transform(sample('mixpanel-export.ndjson'), '--preset', 'mixpanel', '--source-tz', 'America/Los_Angeles');
    expect(r.code, r.stderr).toBe(0);
    // 1790845200 reads 2026-10-01 09:00:00; in Los Angeles (PDT, UTC−7) that is 16:00:00Z = 1790870400
    expect(clean.split('\n')[1]).toBe('u-100,Sign Up,1790870400,,,,pro,,autumn,ads,');
  });

  it('amplitude: a zip of .json.gz entries read in name order, synthetic events dropped, $price × $quantity exact, --anonymous device_id', async () => {
    const { r, clean, rejects, summary } = await transform(sample('amplitude-export.zip'), '--preset', 'amplitude', '--anonymous', 'device_id');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,event,time,value,currencyCode,params.$currency,params.$price,params.$quantity,params.$revenue,params.cart.size,params.level,params.sku',
        'amp-1,Add To Cart,1790845205,,,,,,,2,,SKU-1',
        'amp-1,Purchase,1790845800,29.97,USD,usd,9.99,3,,,,SKU-1',
        '1234567890123456789,Level Up,1790965800,,,,,,,,7,',
        'dev-9,Open App,1790965860,,,,,,,,,',
        'amp-2,Purchase,1790965920,4.5,EUR,EUR,1,2,4.5,,,',
      ),
    );
    const entry = `${sample('amplitude-export.zip')}:187520/187520_2026-10-02_18#0.json.gz`;
    expect(rejects.split('\n')[0]).toBe('file,line,reason,message,record');
    expect(rejects.split('\n')[1]!.startsWith(`${entry},2,bad_json,`)).toBe(true);
    expect(summary.counts).toMatchObject({ read: 8, kept: 5, rejected: 1, dropped: 2 });
    expect(summary.counts.droppedByReason.not_track).toBe(2);
    expect(summary.json.anonymousUserRows).toBe(1);
    expect(summary.inputs[0]).toMatchObject({
      format: 'zip',
      entries: ['187520/187520_2026-10-01_9#0.json.gz', '187520/187520_2026-10-02_18#0.json.gz'],
      skippedEntries: ['README.txt'],
    });
    // an entry that is not read is said where people look, not only in summary.json
    expect(r.stdout).toContain(`skipped    ${sample('amplitude-export.zip')}: README.txt`);
  });

  it('amplitude without --anonymous: the record without user_id is rejected as missing_user_id', async () => {
    const { summary } = await transform(sample('amplitude-export.zip'), '--preset', 'amplitude');
    expect(summary.counts.rejectedByReason).toMatchObject({ missing_user_id: 1, bad_json: 1 });
    expect(summary.json.anonymousUserRows).toBe(0);
  });

  it('segment: gzipped archive, only track calls (identify and page dropped as not_track), revenue in USD, messageId dedupe, anonymous call rejected', async () => {
    const { r, clean, rejects, summary } = await transform(sample('segment-archive.ndjson.gz'), '--preset', 'segment', '--dedupe');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,event,time,value,currencyCode,params.currency,params.order_id,params.products,params.revenue,params.title,params.total,params.value',
        'seg-1,Order Completed,1790845200,25.5,USD,,o-1,"[{""sku"":""A""}]",25.5,,,',
        '1234567890123456789,Video Played,1790965800,3,,,,,,"Intro, part 1",,3',
      ),
    );
    expect(
      rejects
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(',').slice(0, 2).join(',')),
    ).toEqual(['6,bad_json', '7,missing_user_id']);
    expect(summary.counts).toMatchObject({ read: 7, kept: 2, rejected: 2, dropped: 3 });
    expect(summary.counts.droppedByReason).toMatchObject({ not_track: 2, duplicate: 1 });
  });

  it('segment with --anonymous anonymousId: the anonymous track call is kept under its anonymousId', async () => {
    const { clean, summary } = await transform(sample('segment-archive.ndjson.gz'), '--preset', 'segment', '--anonymous', 'anonymousId');
    expect(clean.trimEnd().split('\n').at(-1)).toBe('anon-7,Signed Up,1791011730,12.00,EUR,eur,,,,,12.00,');
    expect(summary.json.anonymousUserRows).toBe(1);
  });

  it('ga4 NDJSON (bq extract): event_params from the one slot set, µs timestamps as strings or numbers, value and currency params, exact INT64', async () => {
    const { r, clean, rejects } = await transform(sample('ga4-export.ndjson'), '--preset', 'ga4', '--anonymous', 'user_pseudo_id');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,event,time,value,currencyCode,params.currency,params.ga_session_id,params.items_count,params.page_title,params.score,params.transaction_id,params.value',
        '1712345.678,session_start,1790845200,,,,1790845200,,Home,,,',
        'ga-1,purchase,1790845800,19.99,USD,USD,,3,,,T-1,19.99',
        '1234567890123456789,level_up,1790965800,,,,,,,9007199254740993,,',
      ),
    );
    expect(rejects.split('\n')[1]!.startsWith('4,bad_json,')).toBe(true);
  });

  it('firebase (= ga4) on the Parquet export: row groups, LIST<STRUCT> event_params, INT64 as bigint; rejects name the row', async () => {
    const { r, clean, rejects, summary } = await transform(sample('ga4-export.parquet'), '--preset', 'firebase');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,event,time,value,currencyCode,params.currency,params.ga_session_id,params.items_count,params.page_title,params.score,params.transaction_id,params.value',
        'ga-1,purchase,1790845800,19.99,USD,USD,,3,,,T-1,19.99',
        '1234567890123456789,level_up,1790965800,,,,,,,9007199254740993,,',
      ),
    );
    expect(rejects.split('\n')[1]!.startsWith('1,missing_user_id,userId is empty,"{""event_timestamp"":1790845200123456,')).toBe(true);
    expect(summary.inputs[0].format).toBe('parquet');
  });

  it('posthog: properties minus $ keys (also when a JSON string), naive timestamps as UTC, uuid dedupe', async () => {
    const { r, clean, rejects, summary } = await transform(
      sample('posthog-export.jsonl'),
      '--preset',
      'posthog',
      '--dedupe',
      '--map',
      'value=properties.amount',
      '--map',
      'currencyCode=properties.currency',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,event,time,value,currencyCode,params.amount,params.cart.items,params.currency,params.level,params.plan',
        'ph-1,$pageview,1790845200,,,,,,,pro',
        'ph-1,checkout,1790845800,19.90,EUR,19.90,3,EUR,,',
        '1234567890123456789,level up,1790965800,,,,,,7,',
      ),
    );
    expect(rejects.split('\n')[1]!.startsWith('4,bad_json,')).toBe(true);
    expect(summary.counts.droppedByReason.duplicate).toBe(1);
  });

  it('the same NDJSON without a preset: dotted --map paths, --params-from, and a missing path named with what was seen', async () => {
    const ok = await transform(
      sample('posthog-export.jsonl'),
      '--map',
      'userId=distinct_id',
      '--param',
      'properties.plan=plan',
      '--params-from',
      'properties.cart',
      '--map',
      'time=timestamp',
    );
    expect(ok.r.code, ok.r.stderr).toBe(0);
    expect(ok.clean).toBe(
      csv(
        'userId,event,time,params.plan,params.items',
        'ph-1,$pageview,1790845200,pro,',
        'ph-1,checkout,1790845800,,3',
        '1234567890123456789,level up,1790965800,,',
        'ph-1,checkout,1790845800,,3',
      ),
    );
    const bad = await transform(sample('posthog-export.jsonl'), '--map', 'time=timestamp');
    expect(bad.r.code).toBe(2);
    expect(bad.r.stderr).toContain('MISSING_COLUMN');
    expect(bad.r.stderr).toContain('userId: no record of the first 4 has "userId"');
    expect(bad.r.stderr).toContain('Did you mean --map userId=distinct_id?');
  });

  it('refuses --preset on a CSV input, and a run mixing CSV and JSON', async () => {
    const r = await transform(sample('mobile-game.csv'), '--preset', 'segment');
    expect(r.r.code).toBe(2);
    expect(r.r.stderr).toContain('--preset: only for JSON or Parquet inputs');
  });
});
