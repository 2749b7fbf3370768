import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spreadTimes, valuePerOccurrence } from '../../src/events/expand.js';
import { specSpread } from '../helpers/rule.js';

/** Spans that divide evenly, leave remainders, are shorter than n, or are empty. */
const rowArb = fc.record({ first: fc.integer({ min: 946_684_800, max: 2_000_000_000 }), n: fc.integer({ min: 1, max: 2000 }) }).chain(({ first, n }) =>
  fc
    .oneof(
      fc.integer({ min: 0, max: 5e7 }),
      fc.integer({ min: 0, max: 3 * n }),
      fc.integer({ min: 1, max: 1000 }).map((k) => k * Math.max(1, n - 1)),
      fc.constant(0),
    )
    .map((span) => ({ first, last: first + span, n })),
);

describe('spreadTimes', () => {
  it('gives exactly n non-decreasing times from first to last inclusive', () => {
    fc.assert(
      fc.property(rowArb, ({ first, last, n }) => {
        const times = spreadTimes(first, last, n);
        expect(times).toHaveLength(n);
        expect(times[0]).toBe(first);
        expect(times[n - 1]).toBe(n === 1 ? first : last);
        const drops = times.filter((t, i) => i > 0 && t < times[i - 1]!);
        expect(drops).toEqual([]);
      }),
    );
  });

  it('spreads evenly: every gap is the same, up to the one second of flooring to whole seconds', () => {
    fc.assert(
      fc.property(rowArb, ({ first, last, n }) => {
        fc.pre(n > 1);
        const times = spreadTimes(first, last, n);
        const span = last - first;
        const lo = Math.floor(span / (n - 1));
        const hi = Math.ceil(span / (n - 1));
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        expect(
          gaps.filter((g) => g !== lo && g !== hi),
          `gaps must be ${lo} or ${hi}`,
        ).toEqual([]);
        // an exact division leaves no room at all
        if (span % (n - 1) === 0) expect(new Set(gaps).size).toBe(1);
      }),
    );
  });

  it('puts occurrence i at first + i·(last − first)/(n − 1), floored to a whole second', () => {
    fc.assert(
      fc.property(rowArb, ({ first, last, n }) => {
        expect(spreadTimes(first, last, n)).toEqual(specSpread(first, last, n));
      }),
    );
  });

  it('spreads three occurrences over ten seconds as 0, 5, 10 and four as 0, 3, 6, 10', () => {
    expect(spreadTimes(1_800_000_000, 1_800_000_010, 3)).toEqual([1_800_000_000, 1_800_000_005, 1_800_000_010]);
    expect(spreadTimes(1_800_000_000, 1_800_000_010, 4)).toEqual([1_800_000_000, 1_800_000_003, 1_800_000_006, 1_800_000_010]);
    expect(spreadTimes(1_800_000_000, 1_800_000_001, 3)).toEqual([1_800_000_000, 1_800_000_000, 1_800_000_001]);
  });

  it('splits a total in decimal: the written values add up to it exactly, ≤ 2 more decimals, equal up to one unit of the last place', () => {
    const decimals = (t: string) => (t.includes('.') ? t.length - t.indexOf('.') - 1 : 0);
    // exact decimal as units of 10^-scale (BigInt), for comparing sums without floating point
    const units = (t: string, scale: number) => {
      const neg = t.startsWith('-');
      const [i, f = ''] = t.replace(/^[+-]/, '').split('.');
      const v = BigInt(i! + f.padEnd(scale, '0'));
      return neg ? -v : v;
    };
    const totalArb = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 6 })).map(([neg, digits, scale]) => {
      const t = digits.toString().padStart(scale + 1, '0');
      return (neg ? '-' : '') + (scale === 0 ? t : `${t.slice(0, -scale)}.${t.slice(-scale)}`);
    });
    fc.assert(
      fc.property(totalArb, fc.integer({ min: 2, max: 500 }), (total, n) => {
        const values = Array.from({ length: n }, (_, i) => valuePerOccurrence(total, n, true, i));
        const scale = decimals(total) + 2;
        let sum = 0n;
        for (const v of values) {
          expect(v).toMatch(/^-?\d+(\.\d*[1-9])?$/);
          expect(decimals(v)).toBeLessThanOrEqual(scale);
          sum += units(v, scale);
        }
        expect(sum).toBe(units(total, scale));
        const us = values.map((v) => units(v, scale));
        const sorted = [...us].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const [lo, hi] = [sorted[0]!, sorted.at(-1)!];
        expect(hi - lo <= 1n).toBe(true);
        // the larger ones (one unit more) are the last occurrences
        const abs = us.map((u) => (u < 0n ? -u : u));
        for (let i = 1; i < n; i++) expect(abs[i]! >= abs[i - 1]!).toBe(true);
        expect(valuePerOccurrence(total, n, false)).toBe(total);
      }),
    );
  });

  it('splits 10 over 3 as 3.33, 3.33, 3.34 (not 3.3333333333333335 three times)', () => {
    const split = (t: string, n: number) => Array.from({ length: n }, (_, i) => valuePerOccurrence(t, n, true, i));
    expect(split('10', 3)).toEqual(['3.33', '3.33', '3.34']);
    expect(split('1', 3)).toEqual(['0.33', '0.33', '0.34']);
    expect(split('0.1', 3)).toEqual(['0.033', '0.033', '0.034']);
    expect(split('9.99', 7)).toEqual(['1.4271', '1.4271', '1.4271', '1.4271', '1.4272', '1.4272', '1.4272']);
    expect(split('10', 4)).toEqual(['2.5', '2.5', '2.5', '2.5']);
    expect(split('-10', 3)).toEqual(['-3.33', '-3.33', '-3.34']);
    expect(split('1e3', 3)).toEqual(['333.33', '333.33', '333.34']);
  });
});
