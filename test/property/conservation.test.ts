import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, transformFile } from '../helpers/run.js';

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
  { weight: 8, arbitrary: fc.tuple(fc.oneof(fc.constantFrom('u1', 'u2', ''), nasty), fc.oneof(fc.constantFrom('open', 'buy', '123', '.x'), nasty), timeArb, fc.constantFrom('1', '2', '0', 'x', '3'), nasty) },
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
        expect(rejects).toHaveLength(tally.rejected);
        for (const r of rejects) expect(startLines).toContain(Number(r['line']));
        // every rejected source row appears once, at the line where it starts
        expect(new Set(rejects.map((r) => r['line'])).size).toBe(rejects.length);
      }),
      { numRuns: 60 },
    );
  });
});
