import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spreadTimes, valuePerOccurrence } from '../../src/events/expand.js';

describe('spreadTimes', () => {
  it('gives exactly n non-decreasing times from first to last inclusive', () => {
    fc.assert(
      fc.property(fc.integer({ min: 946_684_800, max: 2_000_000_000 }), fc.integer({ min: 0, max: 5e7 }), fc.integer({ min: 1, max: 2000 }), (first, span, n) => {
        const times = spreadTimes(first, first + span, n);
        expect(times).toHaveLength(n);
        expect(times[0]).toBe(first);
        if (n > 1) expect(times[n - 1]).toBe(first + span);
        for (let i = 1; i < n; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
        for (const t of times) {
          expect(t).toBeGreaterThanOrEqual(first);
          expect(t).toBeLessThanOrEqual(first + span);
        }
      }),
    );
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
