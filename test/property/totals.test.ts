import fc from 'fast-check';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RawTransformOptions } from '../../src/config.js';
import type { TransformSummary } from '../../src/model/summary.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { runTransform } from '../../src/transform/transform.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

// --kind totals (issue 19): one row per user, folded from the user-ordered stream. The oracle is a
// naive per-user fold, in memory, over the --kind events output of the same input (same options):
// per user and event the number of rows, the smallest and largest time, and the exact sum of the
// values written (BigInt). Σ counts = kept occurrences, first ≤ last, written rows = users.

const T = Date.parse(IMPORT_AT) / 1000;
const userArb = fc.oneof(fc.constantFrom('u1', 'u2', 'u10', 'U1', 'Ω', 'a😀', 'x,y', 'q"q'), fc.string({ minLength: 1, maxLength: 3 }));
// few distinct times, some older than the cutoff (clamped), so ties and clamped first/last are common
const timeArb = fc.oneof(
  fc.constantFrom(T - 100, T - 5000, T - 400 * 86400, T - 800 * 86400).map(String),
  fc.integer({ min: T - 30 * 86400, max: T }).map((s) => new Date(s * 1000).toISOString()),
);
const valueArb = fc.oneof(
  fc.constant(''),
  fc.constantFrom('1', '0.1', '0.2', '9.99', '-3', '10', '1e2', '0.30'),
  fc.integer({ min: -10_000, max: 10_000 }).map((n) => (n / 100).toString()),
);
const rowArb = fc.tuple(userArb, fc.constantFrom('open', 'buy', 'Level Up', 'lvl.up'), timeArb, fc.constantFrom('1', '1', '2', '3', '0'), valueArb);
const field = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);

async function writeInput(dir: string, rows: readonly (readonly string[])[], n: number): Promise<string> {
  const input = join(dir, `in-${n}.csv`);
  await writeFile(input, 'userId,event,time,n,value\n' + rows.map((r) => r.map(field).join(',')).join('\n') + '\n');
  return input;
}

async function run(out: string, input: string, opts: Partial<RawTransformOptions>) {
  const cfg = buildTransformConfig({ input, out, importAt: IMPORT_AT, maxRejectRate: 1, countColumn: 'n', ...opts }, new Date());
  const { summary } = await runTransform(cfg);
  const rows: Record<string, string>[] = [];
  for (const p of summary.outputs.clean) rows.push(...(parse(await readFile(join(out, p.file)), { columns: true }) as Record<string, string>[]));
  return { summary: summary as unknown as TransformSummary, rows };
}

/** An exact decimal as (units, scale), and back: the oracle's own, independent of src/. */
const toUnits = (v: string, scale: number): bigint => {
  const n = Number(v);
  const [i, f = ''] = (Number.isInteger(n) && /e/i.test(v) ? String(n) : v).replace(/^\+/, '').split('.');
  const neg = i!.startsWith('-');
  const digits = BigInt((neg ? i!.slice(1) : i!) + f.padEnd(scale, '0'));
  return neg ? -digits : digits;
};
const scaleOf = (v: string) => (/e/i.test(v) ? 0 : (v.split('.')[1] ?? '').length);
const fromUnits = (u: bigint, scale: number): string => {
  const neg = u < 0n;
  const t = (neg ? -u : u).toString().padStart(scale + 1, '0');
  return (neg ? '-' : '') + (scale === 0 ? t : `${t.slice(0, -scale)}.${t.slice(-scale)}`);
};

interface Agg {
  count: number;
  first: number;
  last: number;
  values: string[];
}

/** The naive fold: the events output, grouped by user and event in memory. */
function naive(events: Record<string, string>[]): Map<string, Map<string, Agg>> {
  const users = new Map<string, Map<string, Agg>>();
  for (const r of events) {
    if (r['event']!.includes('.')) continue; // rejected by totals (dot_in_event_name)
    const t = Number(r['time']);
    const byEvent = users.get(r['userId']!) ?? new Map<string, Agg>();
    users.set(r['userId']!, byEvent);
    const a = byEvent.get(r['event']!) ?? { count: 0, first: Infinity, last: -Infinity, values: [] };
    byEvent.set(r['event']!, a);
    a.count++;
    a.first = Math.min(a.first, t);
    a.last = Math.max(a.last, t);
    if (r['value'] !== '') a.values.push(r['value']!);
  }
  return users;
}

const sum = (values: string[]): string => {
  if (values.length === 0) return '';
  const scale = Math.max(...values.map(scaleOf));
  return fromUnits(
    values.reduce((s, v) => s + toUnits(v, scale), 0n),
    scale,
  );
};

describe('--kind totals', () => {
  it('equals a naive per-user fold over the events output of the same input; Σ counts = kept occurrences, first ≤ last, one row per user', async () => {
    const dir = await tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 120, size: 'max' }),
        fc.constantFrom('1KB', '64KB'),
        fc.boolean(),
        fc.boolean(),
        async (rows, sortMemory, dedupe, valueIsTotal) => {
          const input = await writeInput(dir, rows, ++n);
          const opts = { sortMemory, dedupe, valueIsTotal };
          const events = await run(join(dir, `events-${n}`), input, opts);
          const totals = await run(join(dir, `totals-${n}`), input, { ...opts, kind: 'totals' });
          const s = totals.summary;
          expect(s.conservation.ok).toBe(true);
          expect(s.counts.read).toBe(s.counts.kept + s.counts.rejected + s.counts.dropped);

          const want = naive(events.rows);
          const names = [...new Set([...want.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          // the header: userId, then 4 columns per event name in code-point order
          expect(s.columns?.map((c) => c.name)).toEqual([
            'userId',
            ...names.flatMap((e) => ['count', 'firstTime', 'lastTime', 'value'].map((f) => `events.${e}.${f}`)),
          ]);
          // one row per user, in the order of the user ids' bytes
          expect(totals.rows.map((r) => r['userId'])).toEqual([...want.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
          let counts = 0;
          for (const row of totals.rows) {
            const byEvent = want.get(row['userId']!)!;
            for (const e of names) {
              const a = byEvent.get(e);
              const cells = ['count', 'firstTime', 'lastTime', 'value'].map((f) => row[`events.${e}.${f}`]);
              if (a === undefined) {
                expect(cells).toEqual(['', '', '', '']);
                continue;
              }
              expect(cells.slice(0, 3)).toEqual([String(a.count), String(a.first), String(a.last)]);
              expect(Number(cells[1])).toBeLessThanOrEqual(Number(cells[2]));
              // the exact sum, compared as numbers of the same scale (trailing zeros may differ)
              if (a.values.length === 0) expect(cells[3]).toBe('');
              else {
                const scale = Math.max(scaleOf(cells[3]!), ...a.values.map(scaleOf));
                expect(toUnits(cells[3]!, scale)).toBe(toUnits(sum(a.values), scale));
              }
              counts += a.count;
            }
          }
          // Σ counts = the occurrences kept (and written by events, dotted names aside)
          expect(counts).toBe(s.counts.occurrences);
          expect(s.totals?.users).toBe(totals.rows.length);
          expect(s.counts.written).toBe(totals.rows.length);
          if (!dedupe) expect(s.counts.kept + s.counts.rejectedByReason['dot_in_event_name']!).toBe(events.summary.counts.kept);
          // the events figure beside it is the events run's own file, as written
          if (s.counts.rejectedByReason['dot_in_event_name'] === 0 && events.summary.outputs.usersSplitAcrossParts.count === 0)
            expect(s.cost.byKind?.events).toBe(events.summary.cost.billableLookups);
          expect(s.cost.byKind?.totals).toBe(totals.rows.length);
        },
      ),
      { numRuns: 40 },
    );
  });
});
