import fc from 'fast-check';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { TransformSummary } from '../../src/model/summary.js';
import { describe, expect, it } from 'vitest';
import type { RawTransformOptions } from '../../src/config.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { runTransform } from '../../src/transform/transform.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

// --order user (issue 13): clean rows sorted by userId, then time, then source position, by an
// external merge sort; the oracle is a plain in-memory stable sort of the --order input output.

const T = Date.parse(IMPORT_AT) / 1000;
const nasty = fc.string({ unit: fc.constantFrom(',', '"', '\n', 'a', 'Ω', '😀', ' '), maxLength: 5 });
const userArb = fc.oneof(
  fc.constantFrom('u1', 'u2', 'u10', 'U1', 'Ω', 'a\uFFFD', 'a😀', 'x,y', 'user-000000000001', 'user-000000000001x'),
  fc.string({ minLength: 1, maxLength: 4 }),
);
// few distinct times, so equal (user, time) pairs are common and the stable tie-break matters
const timeArb = fc.oneof(
  fc.constantFrom(T - 100, T - 100, T - 5000, T - 400 * 86400).map(String),
  fc.integer({ min: T - 30 * 86400, max: T }).map((s) => new Date(s * 1000).toISOString()),
);
const rowArb = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(userArb, fc.constantFrom('open', 'buy'), timeArb, fc.constantFrom('1', '1', '2', '3', '0'), nasty) },
  { weight: 1, arbitrary: fc.tuple(fc.constant(''), fc.constant('open'), timeArb, fc.constant('1'), nasty) },
);
const field = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);

interface Out {
  summary: TransformSummary;
  /** every part's rows in file order, with the part they are in */
  rows: { part: string; userId: string; time: number; text: Record<string, string> }[];
  /** clean.lines: (input, line) per row */
  lines: [number, number][];
}

async function run(dir: string, name: string, input: string, opts: Partial<RawTransformOptions>): Promise<Out> {
  const out = join(dir, name);
  const cfg = buildTransformConfig({ input, out, importAt: IMPORT_AT, maxRejectRate: 1, countColumn: 'n', ...opts }, new Date());
  const { summary } = await runTransform(cfg);
  const rows: Out['rows'] = [];
  for (const p of summary.outputs.clean) {
    const recs = parse(await readFile(join(out, p.file)), { columns: true }) as Record<string, string>[];
    for (const r of recs) rows.push({ part: p.file, userId: r['userId']!, time: Number(r['time']), text: r });
  }
  const buf = await readFile(join(out, 'clean.lines'));
  const lines: [number, number][] = [];
  for (let i = 0; i < buf.length; i += 8) lines.push([buf.readUInt32LE(i), buf.readUInt32LE(i + 4)]);
  // the sort's runs are gone
  expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
  return { summary: summary as unknown as TransformSummary, rows, lines };
}

/** The oracle: (row, origin) pairs of the input-order output, stably sorted by userId bytes, then time. */
function stableSortByUser(o: Out): { rows: Record<string, string>[]; lines: [number, number][] } {
  const pairs = o.rows.map((r, i) => ({ r, line: o.lines[i]! }));
  pairs.sort((a, b) => Buffer.compare(Buffer.from(a.r.userId), Buffer.from(b.r.userId)) || a.r.time - b.r.time);
  return { rows: pairs.map((p) => p.r.text), lines: pairs.map((p) => p.line) };
}

/** LEANPLUM-API.md, written out again: per part, consecutive batches of 50 rows, each costing its distinct users. */
function lookupsOf(rows: Out['rows']): number {
  let total = 0;
  const parts = [...new Set(rows.map((r) => r.part))];
  for (const p of parts) {
    const users = rows.filter((r) => r.part === p).map((r) => r.userId);
    for (let i = 0; i < users.length; i += 50) total += new Set(users.slice(i, i + 50)).size;
  }
  return total;
}

async function writeInput(dir: string, rows: readonly (readonly string[])[], n: number): Promise<string> {
  const input = join(dir, `in-${n}.csv`);
  await writeFile(input, 'userId,event,time,n,params.note\n' + rows.map((r) => r.map(field).join(',')).join('\n') + '\n');
  return input;
}

describe('--order user: the external sort', () => {
  it('equals a stable in-memory sort of the input-order output, with clean.lines aligned and every count equal, however many runs spill', async () => {
    const dir = await tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 150, size: 'max' }),
        fc.constantFrom('1KB', '2KB', '64KB'),
        fc.boolean(),
        async (generated, sortMemory, dedupe) => {
          // repeat every fourth row two rows later, so exact duplicates are common
          const rows = generated.flatMap((r, i) => (i % 4 === 3 ? [r, generated[i - 2]!] : [r]));
          const input = await writeInput(dir, rows, ++n);
          const byInput = await run(dir, `input-${n}`, input, { order: 'input', dedupe });
          const byUser = await run(dir, `user-${n}`, input, { order: 'user', sortMemory, dedupe });
          const want = stableSortByUser(byInput);
          expect(byUser.rows.map((r) => r.text)).toEqual(want.rows);
          expect(byUser.lines).toEqual(want.lines);
          // conservation holds, with the same counts as the streaming path
          expect(byUser.summary.conservation.ok).toBe(true);
          expect(byUser.summary.counts).toEqual(byInput.summary.counts);
          if (sortMemory === '1KB' && byUser.rows.length > 40) expect(byUser.summary.sort?.runs).toBeGreaterThan(1);
          // exact lookups of each file as written; the sorted run also counts the input order
          expect(byUser.summary.cost.billableLookups).toBe(lookupsOf(byUser.rows));
          expect(byInput.summary.cost.billableLookups).toBe(lookupsOf(byInput.rows));
          if (!dedupe) expect(byUser.summary.cost.billableLookupsInInputOrder).toBe(byInput.summary.cost.billableLookups);
          expect(byUser.summary.cost.distinctUsers).toBe(new Set(byUser.rows.map((r) => r.userId)).size);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('parts never split a user (except one larger than a part, which is reported), and the input-order count follows the input-order parts', async () => {
    const dir = await tempDir();
    let n = 0;
    const longRow = fc.tuple(
      fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'big'),
      fc.constant('open'),
      timeArb,
      fc.constantFrom('1', '2'),
      fc.string({ minLength: 10, maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(longRow, { minLength: 1, maxLength: 150, size: 'max' }), fc.constantFrom('1KB', '1MB'), async (rows, sortMemory) => {
        const input = await writeInput(dir, rows, ++n);
        const whole = await run(dir, `whole-${n}`, input, { order: 'user', sortMemory });
        const parted = await run(dir, `parted-${n}`, input, { order: 'user', sortMemory, maxPartBytes: 1024 });
        const inputParted = await run(dir, `input-${n}`, input, { order: 'input', maxPartBytes: 1024 });
        // the same rows in the same order, whatever the parts
        expect(parted.rows.map((r) => r.text)).toEqual(whole.rows.map((r) => r.text));
        expect(parted.lines).toEqual(whole.lines);
        const partsOf = new Map<string, Set<string>>();
        for (const r of parted.rows) partsOf.set(r.userId, (partsOf.get(r.userId) ?? new Set()).add(r.part));
        const spanning = [...partsOf]
          .filter(([, ps]) => ps.size > 1)
          .map(([u]) => u)
          .sort();
        const split = parted.summary.outputs.usersSplitAcrossParts;
        expect(split.sample.map((x: { user: string }) => x.user).sort()).toEqual(spanning);
        expect(split.count).toBe(spanning.length);
        const wholeLines = (await readFile(join(dir, `whole-${n}`, 'clean.csv'), 'utf8')).split('\n').slice(1, -1);
        for (const u of spanning) {
          // only a user whose rows cannot fit in one part (30-byte header + its rows > 1024) may span parts
          const userBytes = wholeLines.filter((l) => l.split(',')[0] === u).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0);
          expect(30 + userBytes).toBeGreaterThan(1024);
        }
        for (const p of parted.summary.outputs.clean) expect(p.bytes).toBeLessThanOrEqual(1024);
        expect(parted.summary.cost.billableLookups).toBe(lookupsOf(parted.rows));
        expect(parted.summary.outputs.clean.map((p: { billableLookups: number }) => p.billableLookups).reduce((a: number, b: number) => a + b, 0)).toBe(
          parted.summary.cost.billableLookups,
        );
        // "for comparison, the same count for input order": the input-order file, with its own parts
        expect(parted.summary.cost.billableLookupsInInputOrder).toBe(lookupsOf(inputParted.rows));
        expect(inputParted.summary.cost.billableLookups).toBe(lookupsOf(inputParted.rows));
      }),
      { numRuns: 25 },
    );
  });
});
