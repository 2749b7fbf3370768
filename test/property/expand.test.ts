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

  it('splits a total so that the parts add back up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 1000 }), (cents, n) => {
        const per = Number(valuePerOccurrence((cents / 100).toFixed(2), n, true));
        expect(per * n).toBeCloseTo(cents / 100, 6);
        expect(valuePerOccurrence('12.5', n, false)).toBe('12.5');
      }),
    );
  });
});
