import fc from 'fast-check';
import { Parser } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { RecordReader } from '../../src/input/csv/record-reader.js';

/**
 * The record reader's fast path (quote-free lines split on the delimiter byte, quoted records
 * read by csv-parse region by region) against csv-parse over every byte: the same records, the
 * same line numbers, the same error, whatever the bytes and however they are cut into chunks.
 */
function read(bytes: Buffer, cuts: readonly number[], fastPath: boolean, opts: { delimiter?: string; maxRecordBytes?: number; limit?: number }) {
  const out: [number, string[]][] = [];
  const r = new RecordReader((f, line) => out.push([line, f]), { ...opts, fastPath });
  if (opts.limit !== undefined) r.limit = opts.limit;
  let error: string | undefined;
  try {
    let at = 0;
    for (const c of [...cuts].sort((a, b) => a - b)) {
      const to = Math.min(bytes.length, c);
      if (to > at) r.write(bytes.subarray(at, to));
      at = Math.max(at, to);
    }
    if (at < bytes.length) r.write(bytes.subarray(at));
    r.end();
  } catch (e) {
    error = (e as Error).message;
  }
  return { out, error, records: r.records, delimiter: r.delimiter };
}

const piece = fc.constantFrom('a', 'b', 'Ω', '😀', ',', ';', '\t', '"', '""', '\n', '\r\n', '\r', ' ', '', '123', '\uFEFF', 'x"y', '","', '"\n"');
const text = fc.array(piece, { maxLength: 60 }).map((p) => p.join(''));
/** mostly well-formed CSV: quoted fields holding anything, plain fields without quotes */
const field = fc.oneof(
  fc.stringMatching(/^[a-z0-9 Ω😀.:-]{0,6}$/u),
  fc.array(piece, { maxLength: 5 }).map((p) => `"${p.join('').replaceAll('"', '""')}"`),
);
const csv = fc
  .tuple(fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.boolean())
  .map(([rows, eol, bom, last]) => (bom ? '\uFEFF' : '') + rows.map((r) => r.join(',')).join(eol) + (last ? eol : ''));

const cutsArb = fc.array(fc.nat({ max: 400 }), { maxLength: 8 });

describe('record reader: fast path = csv-parse', () => {
  it('any bytes, any chunking, any options: same records, lines and errors', () => {
    fc.assert(
      fc.property(
        fc.oneof(text, csv),
        cutsArb,
        fc.constantFrom(undefined, ',', ';', '\t', '::'),
        fc.constantFrom(0, 0, 8, 40),
        fc.constantFrom(undefined, 0, 1, 3),
        (s, cuts, delimiter, maxRecordBytes, limit) => {
          const bytes = Buffer.from(s);
          const opts = { ...(delimiter === undefined ? {} : { delimiter }), maxRecordBytes, ...(limit === undefined ? {} : { limit }) };
          expect(read(bytes, cuts, true, opts)).toEqual(read(bytes, cuts, false, opts));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('raw bytes (invalid UTF-8, UTF-16 BOMs, lone CRs at chunk ends)', () => {
    const byte = fc.constantFrom(0x22, 0x2c, 0x0a, 0x0d, 0x61, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0xc3, 0x80, 0x3b);
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 80 }), cutsArb, (b, cuts) => {
        const bytes = Buffer.from(b);
        expect(read(bytes, cuts, true, {})).toEqual(read(bytes, cuts, false, {}));
      }),
      { numRuns: 3000 },
    );
  });

  it('a quote left open: the same error on the same line', () => {
    const s = `a,b\n1,2\n3,"x\n${'4,5\n'.repeat(40)}`;
    const fast = read(Buffer.from(s), [7, 20], true, {});
    expect(fast.error).toBeDefined();
    expect(fast).toEqual(read(Buffer.from(s), [7, 20], false, {}));
  });
});

describe('csv-parse internals the fast path relies on (beyond test/unit/csv-parse-canary.test.ts)', () => {
  type Core = { parse(b: Buffer | undefined, end: boolean, push: (r: string[]) => void, close: () => void): Error | undefined; info: { lines: number } };
  const core = () =>
    (
      new Parser({
        bom: false,
        delimiter: ',',
        relax_column_count: true,
        relax_quotes: true,
        record_delimiter: ['\r\n', '\n', '\r'],
        max_record_size: 0,
      }) as unknown as {
        api: Core;
      }
    ).api;
  it('info.lines can be set, and messages and the count go on from it', () => {
    const c = core();
    c.info.lines = 41;
    const records: string[][] = [];
    expect(
      c.parse(
        Buffer.from('a,"b\nc"\n'),
        true,
        (r) => records.push(r),
        () => {},
      ),
    ).toBeUndefined();
    expect(records).toEqual([['a', 'b\nc']]);
    expect(c.info.lines).toBe(43);
    const e = core();
    e.info.lines = 41;
    expect(
      e.parse(
        Buffer.from('a,"b\n'),
        true,
        () => {},
        () => {},
      )?.message,
    ).toContain('at line 41');
  });
  it('a core whose input ended cleanly (end=true) reads the next input as a fresh one', () => {
    const c = core();
    const got: string[][] = [];
    for (const s of ['x,"y""z"\r\n', '"p\rq",r\n', '', 's'])
      expect(
        c.parse(
          Buffer.from(s),
          true,
          (r) => got.push(r),
          () => {},
        ),
      ).toBeUndefined();
    expect(got).toEqual([['x', 'y"z'], ['p\rq', 'r'], ['s']]);
  });
});
