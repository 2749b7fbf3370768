import fc from 'fast-check';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartWriter } from '../../src/transform/part-writer.js';
import { BackfillError, exitCodeOf } from '../../src/errors.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { runTransform, type TransformIO } from '../../src/transform/transform.js';
import { IMPORT_AT, tempDir, transformFile } from '../helpers/run.js';

/** A field that stresses CSV: delimiters, quotes, line breaks, unicode, emptiness. */
const nasty = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r\n', 'a', 'Ω', '😀', ' ', ';'), maxLength: 6 }),
  fc.constant(''),
);
const T = Date.parse('2026-11-20T00:00:00Z') / 1000;
const timeArb = fc.oneof(
  fc.integer({ min: T - 900 * 86400, max: T }).map(String),
  fc.integer({ min: T - 900 * 86400, max: T }).map((s) => new Date(s * 1000).toISOString()),
  fc.integer({ min: T - 900 * 86400, max: T }).map((s) => String(s * 1000)),
  fc.constantFrom('', 'soon', '0', '1970-01-01T00:00:00Z', '2031-01-01T00:00:00Z', '12345678901'),
);
const rowArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      fc.oneof(fc.constantFrom('u1', 'u2', ''), nasty),
      fc.oneof(fc.constantFrom('open', 'buy', '123', '.x'), nasty),
      timeArb,
      fc.constantFrom('1', '2', '0', 'x', '3'),
      nasty,
    ),
  },
  { weight: 1, arbitrary: fc.array(nasty, { minLength: 1, maxLength: 7 }).map((r) => (r.length === 5 ? [...r, 'x'] : r)) },
  { weight: 1, arbitrary: fc.constant([] as string[]) },
);

/** Quote a field when needed, or always, at random; report how many physical lines it spans. */
function encode(fields: readonly string[], quoteAll: boolean): string {
  return fields.map((f) => (quoteAll || /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}
const breaks = (s: string) => (s.match(/\r\n|\n|\r/g) ?? []).length;

describe('row conservation on generated exports', () => {
  it('accounts for every row as kept, rejected or dropped, with the right line numbers', async () => {
    const dir = await tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(rowArb, fc.boolean()), { maxLength: 40 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), async (rows, eol, bom) => {
        run++;
        const header = 'userId,event,time,n,params.note';
        let text = (bom ? '\uFEFF' : '') + header + eol;
        const startLines: number[] = [];
        let line = 2;
        for (const [fields, quoteAll] of rows) {
          const enc = fields.length === 0 ? '' : encode(fields, quoteAll);
          startLines.push(line);
          line += 1 + breaks(enc);
          text += enc + eol;
        }
        const input = join(dir, `in-${run}.csv`);
        await writeFile(input, text);
        const { tally, clean, rejects } = await transformFile(input, { out: join(dir, `out-${run}`), countColumn: 'n' });
        expect(tally.read).toBe(rows.length);
        expect(tally.read).toBe(tally.kept + tally.rejected + tally.dropped);
        expect(clean).toHaveLength(tally.written);
        expect(tally.written).toBe(tally.occurrences);
        expect(tally.lineIndexEntries).toBe(tally.written);
        expect((await stat(join(dir, `out-${run}`, 'clean.lines'))).size).toBe(8 * tally.written);
        expect(rejects).toHaveLength(tally.rejected);
        for (const r of rejects) expect(startLines).toContain(Number(r['line']));
        // every rejected source row appears once, at the line where it starts
        expect(new Set(rejects.map((r) => r['line'])).size).toBe(rejects.length);
      }),
      { numRuns: 60 },
    );
  });
});

describe('the conservation check sees a row lost between its counting points', () => {
  // 5 data rows: 3 kept (counts 1, 2, 3: 6 occurrences), 1 rejected, 1 dropped (count 0)
  const csv =
    'userId,event,time,n\nu1,open,2026-10-01T00:00:00Z,1\nu2,open,2026-10-01T00:00:00Z,2\n,open,2026-10-01T00:00:00Z,1\nu3,open,2026-10-01T00:00:00Z,0\nu4,open,2026-10-01T00:00:00Z,3\n';

  async function runWith(seams: NonNullable<TransformIO['testSeams']>, order: 'user' | 'input' = 'user'): Promise<{ error: unknown; out: string }> {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, csv);
    const out = join(dir, 'out');
    const cfg = buildTransformConfig({ input, out, importAt: IMPORT_AT, countColumn: 'n', maxRejectRate: 1, order }, new Date());
    const error = await runTransform(cfg, { testSeams: seams }).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, out };
  }

  it('passes when nothing is lost (the seams themselves change nothing)', async () => {
    const { error, out } = await runWith({ passRecord: () => true, partWriter: (d, h, m, o) => new PartWriter(d, h, m, o) });
    expect(error).toBeUndefined();
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary.counts).toMatchObject({ read: 5, kept: 3, rejected: 1, dropped: 1, occurrences: 6, written: 6, lineIndexEntries: 6 });
    expect(summary.conservation.ok).toBe(true);
  });

  // --order user: the row reaches the writer after the sort; --order input: straight from the row step
  it.each(['user', 'input'] as const)(
    'a clean CSV writer that drops one row (--order %s): CONSERVATION, exit 1, written ≠ occurrences named',
    async (order) => {
      class Lossy extends PartWriter {
        private calls = 0;
        override add(line: string, user?: string): boolean {
          return ++this.calls === 4 ? false : super.add(line, user);
        }
      }
      const { error, out } = await runWith({ partWriter: (d, h, m, o) => new Lossy(d, h, m, o) }, order);
      expect(error).toBeInstanceOf(BackfillError);
      const e = error as BackfillError;
      expect(e.code).toBe('CONSERVATION');
      expect(exitCodeOf(e.code)).toBe(1);
      expect(e.message).toContain('written 5 (clean CSV) ≠ occurrences 6 (row step)');
      expect(e.message).not.toContain('clean.lines 6 (line index) ≠');
      expect(e.message).toContain('read 5 = kept 3 + rejected 1 + dropped 1;');
      // the evidence stays on disk for the bug report
      const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
      expect(summary.conservation.ok).toBe(false);
      expect(summary.counts).toMatchObject({ written: 5, lineIndexEntries: 6, occurrences: 6 });
    },
  );

  it('a record lost between the reader and the row step: CONSERVATION, exit 1, read ≠ decided named', async () => {
    const { error } = await runWith({ passRecord: (_fields, line) => line !== 3 });
    expect(error).toBeInstanceOf(BackfillError);
    const e = error as BackfillError;
    expect(e.code).toBe('CONSERVATION');
    expect(exitCodeOf(e.code)).toBe(1);
    expect(e.message).toContain('read 5 = kept 2 + rejected 1 + dropped 1  MISMATCH: read 5 (reader) ≠ 4 decided (row step)');
    // the lost row's occurrences never reached the row step, so that law still holds
    expect(e.message).toMatch(/; written 4 = clean\.lines 4 = occurrences of kept rows 4$/);
  });
});

describe('--sample', () => {
  it('is counted by the reader: read = sample, across inputs, and an input after the sample is not opened', async () => {
    const dir = await tempDir();
    const rows = (p: string) => 'userId,event,time\n' + Array.from({ length: 5 }, (_, i) => `${p}${i},open,2026-10-01T00:00:00Z\n`).join('');
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    await writeFile(a, rows('a'));
    await writeFile(b, rows('b'));
    for (const [sample, inputs] of [
      [3, 1],
      [5, 1],
      [7, 2],
      [50, 2],
    ] as const) {
      const cfg = buildTransformConfig({ input: [a, b], out: join(dir, `out-${sample}`), importAt: IMPORT_AT, sample }, new Date());
      const { summary } = await runTransform(cfg);
      expect(summary.counts.read).toBe(Math.min(sample, 10));
      expect(summary.counts.written).toBe(Math.min(sample, 10));
      expect(summary.conservation.ok).toBe(true);
      expect(summary.inputs).toHaveLength(inputs);
    }
  });
});
