import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawTransformOptions } from '../../src/config.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { transformWithReport } from '../../src/pipeline/transform-with-report.js';
import { CLOCK, IMPORT_AT, sample, tempDir } from '../helpers/run.js';

/**
 * Issue 11's proof of sameness: the transform with the reader's fast path and with the exact path
 * (LP_BACKFILL_EXACT=1, `fastPath: false`) writes byte-identical clean parts, clean.lines,
 * rejects.csv, summary.json and report.json (its generation time aside).
 */
async function outputs(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) {
    if (f === 'report.html') continue;
    let text = (await readFile(join(dir, f))).toString(f === 'clean.lines' ? 'hex' : 'utf8');
    if (f === 'report.json') text = text.replace(/"generatedAt": *"[^"]*"/, '"generatedAt":"-"');
    out[f] = text;
  }
  return out;
}

async function both(input: string | string[], opts: Partial<RawTransformOptions>): Promise<{ fast: Record<string, string>; exact: Record<string, string> }> {
  const dir = await tempDir();
  const result: Record<string, Record<string, string>> = {};
  for (const fastPath of [true, false]) {
    const out = join(dir, fastPath ? 'fast' : 'exact');
    const cfg = buildTransformConfig({ importAt: IMPORT_AT, maxRejectRate: 1, ...opts, input, out }, CLOCK);
    const now = () => new Date(0);
    let error: string | undefined;
    await transformWithReport(cfg, { fastPath, now }).catch((e: unknown) => (error = String(e)));
    result[fastPath ? 'fast' : 'exact'] = error === undefined ? await outputs(out) : { error };
  }
  return { fast: result['fast']!, exact: result['exact']! };
}

const T = Date.parse(IMPORT_AT) / 1000;
const instant = fc.integer({ min: T - 900 * 86400, max: T + 86400 });
const iso = (s: number) => new Date(s * 1000).toISOString();
const timeArb = fc.oneof(
  instant.map(String),
  instant.map((s) => String(s * 1000)),
  instant.map((s) => iso(s).replace('.000Z', 'Z')),
  instant.map(iso),
  instant.map((s) => iso(s).replace('.000Z', '+02:00')),
  instant.map((s) => iso(s).replace('.000Z', '')),
  instant.map((s) => iso(s).slice(0, 10)),
  instant.map((s) => ` ${s} `),
  fc.constantFrom('', 'soon', '0', '-5', '1970-01-01T00:00:00Z', '2031-01-01T00:00:00Z', '12345678901', '1.5e9', '1700000000000000'),
);
/** a field that stresses CSV: delimiters, quotes, line breaks, unicode, a BOM inside, emptiness */
const nasty = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9_.:-]{0,8}$/),
  fc.string({ unit: fc.constantFrom(',', ';', '"', '\n', '\r\n', '\r', 'a', 'Ω', '😀', ' ', '\t', '\uFEFF'), maxLength: 6 }),
  fc.constant(''),
);
const rowArb = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.tuple(
      fc.oneof(fc.constantFrom('u1', 'u2', 'u3', '', ' '), nasty),
      fc.oneof(fc.constantFrom('open', 'buy', 'Level Up', '.x', ''), nasty),
      timeArb,
      fc.constantFrom('1', '2', '0', 'x', '3', '', ' 2', '-1', '100001'),
      fc.constantFrom('', '1.5', '10', '-3', 'abc', '1e3', '.5', ' 2 '),
      fc.constantFrom('', 'USD', 'eur', 'XXX1'),
      nasty,
    ),
  },
  { weight: 1, arbitrary: fc.array(nasty, { minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant([] as string[]) },
  // records around --max-record-bytes (1024 in some runs), quoted or not
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 900, max: 1200 }), fc.constantFrom('x', 'y\n', 'z"'))
      .map(([n, c]) => ['u1', 'open', '1700000000', '1', '', '', c.repeat(n / c.length)]),
  },
);
const HEADER = ['userId', 'event', 'time', 'n', 'value', 'currencyCode', 'params.note'];

function encode(fields: readonly string[], d: string, quote: 'needed' | 'all' | 'never'): string {
  const needs = (f: string) => f.includes(d) || /["\r\n]/.test(f);
  return fields.map((f) => (quote === 'all' || (quote === 'needed' && needs(f)) ? `"${f.replaceAll('"', '""')}"` : f)).join(d);
}

describe('fast path = exact path, byte for byte', () => {
  it('generated exports: every output file identical', async () => {
    const dir = await tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(rowArb, fc.constantFrom('needed', 'needed', 'all', 'never') as fc.Arbitrary<'needed' | 'all' | 'never'>), { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(',', ';', '\t'),
        fc.record({
          order: fc.constantFrom('input', 'user'),
          maxPartBytes: fc.constantFrom(undefined, 1024),
          dedupe: fc.constantFrom(undefined, true),
          originalTimeParam: fc.constantFrom(undefined, 'orig'),
          tz: fc.constantFrom(undefined, 'Europe/Berlin'),
          sample: fc.constantFrom(undefined, undefined, 5),
          maxRecordBytes: fc.constantFrom(undefined, undefined, 1024),
        }),
        async (rows, eol, bom, lastEol, d, o) => {
          const text = (bom ? '\uFEFF' : '') + [HEADER.join(d), ...rows.map(([f, q]) => encode(f, d, q))].join(eol) + (lastEol ? eol : '');
          const input = join(dir, `in-${++run}.csv`);
          await writeFile(input, text);
          const opts: Partial<RawTransformOptions> = { countColumn: 'n' };
          for (const [k, v] of Object.entries(o)) if (v !== undefined) (opts as Record<string, unknown>)[k] = v;
          const { fast, exact } = await both(input, opts);
          expect(fast).toEqual(exact);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('bytes that are not UTF-8 (issue 16): the same error on both paths, naming the byte; never U+FFFD in an output', async () => {
    const dir = await tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 30 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.constantFrom(',', ';', '\t'),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x80, 0xa9, 0xc3, 0xe0, 0xe9, 0xed, 0xf0, 0xff)), { minLength: 1, maxLength: 3 }),
        async (rows, eol, d, bad) => {
          const text = [HEADER.join(d), ...rows.map((f) => encode(f, d, 'needed'))].join(eol) + eol;
          const bytes = [...Buffer.from(text)];
          // the bytes go after the header, anywhere in the records (inside a character too)
          const start = Buffer.byteLength(HEADER.join(d) + eol);
          for (const [at, b] of bad) bytes.splice(start + (at % (bytes.length - start + 1)), 0, b);
          const input = join(dir, `bad-${++run}.csv`);
          const buf = Buffer.from(bytes);
          await writeFile(input, buf);
          const { fast, exact } = await both(input, { countColumn: 'n' });
          expect(fast).toEqual(exact);
          if (isUtf8(buf)) expect(fast['error']).toBeUndefined();
          else expect(fast['error']).toMatch(/is not valid UTF-8: line \d+, byte offset \d+: bytes? [0-9A-F]{2}/);
          for (const v of Object.values(fast)) expect(v).not.toContain('\uFFFD');
        },
      ),
      { numRuns: 80 },
    );
  });

  const samples: [string, Partial<RawTransformOptions>][] = [
    ['game-sessions.csv', { map: ['userId=player_id', 'time=timestamp'], param: ['level'] }],
    ['messy.csv', { tz: 'America/New_York', map: ['userId=user_id', 'time=event_time', 'value=amount', 'currencyCode=currency'], param: ['note'] }],
    ['mobile-game.csv', { countColumn: 'count' }],
    ['ecommerce-clickstream.csv', { map: ['userId=visitor_id', 'event=event_name', 'time=ts_ms'], param: ['item_id', 'category', 'page_url=url'] }],
  ];
  it.each(samples)('samples/%s, both orders', async (name, opts) => {
    for (const order of ['input', 'user']) {
      const { fast, exact } = await both(sample(name), { ...opts, order });
      expect(Object.keys(fast)).toContain('clean.csv');
      expect(fast).toEqual(exact);
    }
  });

  it('the csv-spectrum corpus, each file as params', async () => {
    const spectrum = join(dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json')), 'csvs');
    const dir = await tempDir();
    for (const f of await readdir(spectrum)) {
      // the corpus file as it is: its first column as userId, event and time (most rows are then
      // rejected, and rejects.csv shows every field as read), every column as a param
      const input = join(dir, f);
      await copyFile(join(spectrum, f), input);
      const columns = (parse(await readFile(input), { to_line: 1, bom: true }) as string[][])[0]!;
      const first = columns[0]!;
      for (const order of ['input', 'user']) {
        const { fast, exact } = await both(input, {
          order,
          map: [`userId=${first}`, `event=${first}`, `time=${first}`],
          param: columns.map((c, i) => `${c}=c${i}`),
        });
        expect(fast['error'], f).toBeUndefined();
        expect(fast, f).toEqual(exact);
      }
    }
  });
});
