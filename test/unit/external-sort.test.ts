import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExternalSorter } from '../../src/transform/external-sort.js';
import { parseSize } from '../../src/config.js';
import { tempDir } from '../helpers/run.js';

interface Rec {
  key: string;
  num: number;
  seq?: number;
  a: number;
  b: number;
  payload: string;
}

/** The oracle: a plain in-memory stable sort by key (its UTF-8 bytes, as LC_ALL=C sort), then num. */
const oracle = (recs: readonly Rec[]) =>
  [...recs].sort((x, y) => Buffer.compare(Buffer.from(x.key, 'utf8'), Buffer.from(y.key, 'utf8')) || x.num - y.num || (x.seq ?? 0) - (y.seq ?? 0));

async function sortAll(dir: string, budget: number, recs: readonly Rec[], sinkWaits = false) {
  const s = new ExternalSorter(join(dir, '.sort'), budget);
  for (const r of recs) if (s.add(r.key, r.num, r.seq ?? 0, r.a, r.b, r.payload)) await s.spill();
  const spills = s.spills;
  const out: Rec[] = [];
  let n = 0;
  await s.drain(
    ({ key, num, seq, a, b, payload, start, end }) => {
      out.push({ key, num, ...(seq === 0 ? {} : { seq }), a, b, payload: payload.toString('utf8', start, end) });
      return sinkWaits && ++n % 3 === 0;
    },
    () => new Promise((r) => setImmediate(r)),
  );
  return { out, spills, sorter: s };
}

const recArb = fc.record(
  {
    // byte order and JavaScript's UTF-16 order disagree on 'a\uFFFD' vs 'a😀'; keys longer than the 12 bytes of the numeric prefixes
    key: fc.oneof(
      fc.constantFrom(
        'u1',
        'u2',
        'u10',
        'U1',
        'ü',
        'z😀',
        '',
        'a\uFFFD',
        'a\u{1F600}',
        'ab\u0000',
        'ab',
        'user-0000000001',
        'user-0000000001x',
        'user-00000000010',
      ),
      fc.string({ maxLength: 16 }),
    ),
    num: fc.oneof(fc.constantFrom(0, 1, 1760000000, 1760000001), fc.integer({ min: 1_600_000_000, max: 1_800_000_000 })),
    seq: fc.constantFrom(1, 2, 3),
    a: fc.nat({ max: 3 }),
    b: fc.nat(),
    payload: fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', 'Ω', '😀', 'x'), maxLength: 300 }),
  },
  { requiredKeys: ['key', 'num', 'a', 'b', 'payload'] },
);

describe('ExternalSorter', () => {
  it('orders keys by their UTF-8 bytes (code points), not by UTF-16 code units', async () => {
    const dir = await tempDir();
    const recs: Rec[] = ['a\u{1F600}', 'a\uFFFD', 'ab', 'a', 'B', 'ab\u0000'].map((key, i) => ({ key, num: 0, a: 0, b: i, payload: '' }));
    for (const budget of [1024, 1 << 20]) {
      const { out } = await sortAll(dir, budget, recs);
      expect(out.map((r) => r.key)).toEqual(['B', 'a', 'ab', 'ab\u0000', 'a\uFFFD', 'a\u{1F600}']);
    }
  });

  it('equals a plain in-memory stable sort for any records, with a budget small enough for many spilled runs and merge passes', async () => {
    const dir = await tempDir();
    await fc.assert(
      fc.asyncProperty(fc.array(recArb, { maxLength: 150 }), fc.constantFrom(1024, 2048, 8192), fc.boolean(), async (recs, budget, waits) => {
        const { out, spills, sorter } = await sortAll(dir, budget, recs, waits);
        expect(out).toEqual(oracle(recs));
        expect(sorter.emitted).toBe(recs.length);
        if (recs.length > 60) expect(spills).toBeGreaterThan(1);
        // the runs are gone once drained
        expect(await readdir(dir)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('merges in several passes when there are more runs than one merge reads (a 1 KB budget reads 2 at a time)', async () => {
    const dir = await tempDir();
    const recs: Rec[] = Array.from({ length: 400 }, (_, i) => ({
      key: `u${(i * 7919) % 13}`,
      num: i % 5,
      a: 0,
      b: i,
      payload: `row ${i} ${'x'.repeat(i % 50)}\n`,
    }));
    const { out, spills, sorter } = await sortAll(dir, 1024, recs);
    expect(spills).toBeGreaterThan(8);
    expect(sorter.extraPasses).toBeGreaterThan(0);
    expect(out).toEqual(oracle(recs));
  });

  it('sorts in memory without writing anything when the records fit (large groups of equal keys and times stay in input order)', async () => {
    const dir = await tempDir();
    const recs: Rec[] = Array.from({ length: 3000 }, (_, i) => ({
      key: `u${i % 17}`,
      num: i % 100 < 50 ? 7 : 1000 - (i % 3),
      a: i % 2,
      b: i,
      payload: `p${i}`,
    }));
    const { out, spills } = await sortAll(dir, 1 << 24, recs);
    expect(spills).toBe(0);
    expect(out).toEqual(oracle(recs));
    expect(await readdir(dir)).toEqual([]);
  });

  it('handles a record larger than the read buffer and the memory budget', async () => {
    const dir = await tempDir();
    const big = 'y'.repeat(200_000);
    const recs: Rec[] = [
      { key: 'b', num: 1, a: 0, b: 2, payload: 'small' },
      { key: 'a', num: 1, a: 0, b: 3, payload: big },
      { key: 'a', num: 0, a: 0, b: 4, payload: 'first' },
    ];
    const { out } = await sortAll(dir, 1024, recs);
    expect(out.map((r) => r.b)).toEqual([4, 3, 2]);
    expect(out[1]!.payload).toBe(big);
  });
});

describe('parseSize', () => {
  it('reads sizes as GNU sort -S does (1024-based)', () => {
    expect(parseSize('256MB')).toBe(268_435_456);
    expect(parseSize('32M')).toBe(33_554_432);
    expect(parseSize('1GiB')).toBe(1_073_741_824);
    expect(parseSize('64k')).toBe(65_536);
    expect(parseSize('1.5MB')).toBe(1_572_864);
    expect(parseSize('65536')).toBe(65_536);
    expect(parseSize('12 B')).toBe(12);
    expect(parseSize('lots')).toBeUndefined();
    expect(parseSize('-5MB')).toBeUndefined();
  });
});
