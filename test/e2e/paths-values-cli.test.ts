// Issue 16, paths and values, through the built CLI: JSON-string properties, paths that match
// nothing (stopped before output, the advice run as printed), user-id types, epoch ≤ 0 and
// --value-is-total's exact decimal split.
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

async function transform(input: string, ...args: string[]) {
  const out = await tempDir();
  const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--order', 'input', ...args]);
  const text = (name: string) => readFile(join(out, name), 'utf8');
  return {
    r,
    out,
    clean: await text('clean.csv').catch(() => undefined),
    rejects: await text('rejects.csv').catch(() => ''),
    summary: JSON.parse(await text('summary.json').catch(() => '{}')),
    report: JSON.parse(await text('report.json').catch(() => '{}')),
  };
}

async function file(name: string, lines: string[]): Promise<string> {
  const p = join(await tempDir(), name);
  await writeFile(p, lines.join('\n') + '\n');
  return p;
}

/** The flag a message advises (`Did you mean --map time=timestamp?`), as argv words. */
function advised(stderr: string): string[] {
  const m = /Did you mean (--[a-z-]+)[ ]([^\s?]+)\?/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return [m![1]!, m![2]!];
}

const ph = (i: number, props: string) =>
  `{"uuid":"u-${i}","event":"checkout","distinct_id":"ph-${i % 3}","timestamp":"2026-10-01T09:${String(i).padStart(2, '0')}:00Z","properties":${props}}`;

describe('JSON strings in dotted paths', () => {
  it('posthog: properties as a JSON string fill value and currency like an object does (both forms in one file)', async () => {
    const props = (i: number) => ({ amount: `${i}.90`, currency: 'EUR', plan: 'pro', big: '«big»' });
    const obj = (i: number) => JSON.stringify(props(i)).replace('"«big»"', '12345678901234567890');
    const lines = Array.from({ length: 12 }, (_, i) => ph(i, i % 2 === 0 ? obj(i) : JSON.stringify(obj(i))));
    const objectsOnly = Array.from({ length: 12 }, (_, i) => ph(i, obj(i)));
    const args = ['--preset', 'posthog', '--map', 'value=properties.amount', '--map', 'currencyCode=properties.currency'];
    const mixed = await transform(await file('mixed.jsonl', lines), ...args);
    const plain = await transform(await file('plain.jsonl', objectsOnly), ...args);
    expect(mixed.r.code, mixed.r.stderr).toBe(0);
    expect(mixed.clean).toBe(plain.clean);
    const rows = mixed.clean!.trimEnd().split('\n');
    expect(rows[0]).toBe('userId,event,time,value,currencyCode,params.amount,params.big,params.currency,params.plan');
    expect(rows).toHaveLength(13);
    expect(rows[2]).toBe('ph-1,checkout,1790845260,1.90,EUR,1.90,12345678901234567890,EUR,pro');
  });
});

describe('paths that match nothing stop before output, and the advice runs as printed', () => {
  it('--preset posthog --map time=timestmp: exit 2, nothing written, "did you mean --map time=timestamp" then runs', async () => {
    const input = await file('ph.jsonl', [ph(1, '{"amount":"1"}'), ph(2, '"{\\"amount\\":\\"2\\"}"')]);
    const bad = await transform(input, '--preset', 'posthog', '--map', 'time=timestmp');
    expect(bad.r.code, bad.r.stderr).toBe(2);
    expect(bad.r.stderr).toContain('MISSING_COLUMN');
    expect(bad.clean).toBeUndefined();
    await expect(access(join(bad.out, 'summary.json'))).rejects.toThrow();
    const fix = advised(bad.r.stderr);
    expect(fix).toEqual(['--map', 'time=timestamp']);
    const good = await transform(input, '--preset', 'posthog', ...fix);
    expect(good.r.code, good.r.stderr).toBe(0);
    expect(good.summary.counts.kept).toBe(2);
  });

  it('--map value=properties.amout (inside a JSON string) suggests properties.amount', async () => {
    const input = await file('ph.jsonl', [ph(1, '"{\\"amount\\":\\"1\\"}"')]);
    const bad = await transform(input, '--preset', 'posthog', '--map', 'value=properties.amout');
    expect(bad.r.code, bad.r.stderr).toBe(2);
    const fix = advised(bad.r.stderr);
    expect(fix).toEqual(['--map', 'value=properties.amount']);
    const good = await transform(input, '--preset', 'posthog', ...fix);
    expect(good.r.code, good.r.stderr).toBe(0);
    expect(good.clean!.split('\n')[1]).toBe('ph-1,checkout,1790845260,1,1');
  });

  it('CSV without a preset: --map time=event_timestmp suggests event_timestamp (not event_name), which runs', async () => {
    const input = await file('e.csv', ['user_id,event_name,event_timestamp', 'u1,open,2026-10-01T09:00:00Z']);
    const base = ['--map', 'userId=user_id', '--map', 'event=event_name'];
    const bad = await transform(input, ...base, '--map', 'time=event_timestmp');
    expect(bad.r.code, bad.r.stderr).toBe(2);
    expect(bad.r.stderr).toContain('MISSING_COLUMN');
    const fix = advised(bad.r.stderr);
    expect(fix).toEqual(['--map', 'time=event_timestamp']);
    const good = await transform(input, ...base, ...fix);
    expect(good.r.code, good.r.stderr).toBe(0);
  });

  it('GA4 with mostly empty user_id: exit 2 before output suggesting --anonymous user_pseudo_id, which runs', async () => {
    const ga4 = (i: number, user: string) =>
      `{"event_timestamp":"${1790845200000000 + i * 1000000}","event_name":"page_view","user_id":${user},"user_pseudo_id":"p.${i}","event_params":[]}`;
    const input = await file('ga4.ndjson', [ga4(1, 'null'), ga4(2, 'null'), ga4(3, '"ga-1"'), ga4(4, 'null')]);
    const bad = await transform(input, '--preset', 'ga4');
    expect(bad.r.code, bad.r.stderr).toBe(2);
    expect(bad.r.stderr).toContain('3 of the first 4 events have no user_id');
    expect(bad.clean).toBeUndefined();
    const fix = advised(bad.r.stderr);
    expect(fix).toEqual(['--anonymous', 'user_pseudo_id']);
    const good = await transform(input, '--preset', 'ga4', ...fix);
    expect(good.r.code, good.r.stderr).toBe(0);
    expect(good.summary.counts.kept).toBe(4);
    expect(good.summary.json.anonymousUserRows).toBe(3);
  });
});

describe('values', () => {
  it('JSON user ids true, {"a":1}, ["x"] and 1.5 are rejected as bad_user_id (rejects, summary and report)', async () => {
    const row = (id: string) => `{"userId":${id},"event":"open","time":"2026-10-01T09:00:00Z"}`;
    const input = await file('ids.ndjson', [row('true'), row('{"a":1}'), row('["x"]'), row('1.5'), row('"u-1"'), row('7'), row('12345678901234567890')]);
    const r = await transform(input, '--max-reject-rate', '1');
    expect(r.r.code, r.r.stderr).toBe(0);
    expect(r.clean).toBe('userId,event,time\nu-1,open,1790845200\n7,open,1790845200\n12345678901234567890,open,1790845200\n');
    expect(r.summary.counts.rejectedByReason.bad_user_id).toBe(4);
    expect(r.rejects).toContain('1,bad_user_id,userId is a boolean (true); expected a string or an integer');
    expect(r.rejects).toContain('4,bad_user_id,userId 1.5 is a number that is not an integer');
    expect(JSON.stringify(r.report)).toContain('bad_user_id');
  });

  it('an epoch of 0 or -1 is implausible_time, with --time-format auto and unix-s', async () => {
    const input = await file('t.csv', ['userId,event,time', 'u,a,0', 'u,b,-1', 'u,c,1790845200']);
    for (const format of ['auto', 'unix-s']) {
      const r = await transform(input, '--max-reject-rate', '1', '--time-format', format);
      expect(r.r.code, r.r.stderr).toBe(0);
      expect(r.summary.counts.rejectedByReason).toMatchObject({ implausible_time: 2, bad_time: 0 });
      expect(r.rejects).toContain('2,implausible_time,"time: epoch value ""0"" is at or before 1970-01-01T00:00:00Z');
    }
  });

  it('--value-is-total writes 10 over 3 as 3.33, 3.33, 3.34 (in input and in user order)', async () => {
    const input = await file('v.csv', [
      'userId,event,time,value,currencyCode,count',
      'u,buy,2026-10-01T09:00:00Z,10,EUR,3',
      'v,buy,2026-10-01T09:00:00Z,0.1,EUR,3',
    ]);
    for (const order of ['input', 'user']) {
      const r = await transform(input, '--count-column', 'count', '--value-is-total', '--order', order);
      expect(r.r.code, r.r.stderr).toBe(0);
      const values = r
        .clean!.trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').slice(0, 1).concat(l.split(',')[3]!).join(' '));
      expect(values).toEqual(['u 3.33', 'u 3.33', 'u 3.34', 'v 0.033', 'v 0.033', 'v 0.034']);
      // the report sums what was written: exactly 10.1
      expect(r.report.events.find((e: { event: string }) => e.event === 'buy').valueByCurrency.EUR).toMatch(/^10\.10*$/);
    }
  });
});
