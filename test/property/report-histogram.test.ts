import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketDays, chooseWindow, countTicks, MAX_WINDOW_DAYS, olderNote } from '../../src/report/histogram.js';

const FIRST_DAY = Date.UTC(2000, 0, 1) / 86_400_000;
const LENGTH = 10_000; // 2000-01-01 … 2027-05

/** Per-day counts: a main cluster somewhere, sometimes a few far-away events, sometimes none at all. */
const daysArb = fc
  .record({
    centre: fc.integer({ min: 0, max: LENGTH - 1 }),
    width: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 2000 }), fc.constant(LENGTH)),
    events: fc.array(fc.tuple(fc.integer({ min: -LENGTH, max: LENGTH }), fc.integer({ min: 1, max: 5 })), { maxLength: 200 }),
    strays: fc.array(fc.integer({ min: 0, max: LENGTH - 1 }), { maxLength: 4 }),
    mustFrom: fc.integer({ min: -100, max: LENGTH + 100 }),
    mustDays: fc.integer({ min: 0, max: 400 }),
  })
  .map(({ centre, width, events, strays, mustFrom, mustDays }) => {
    const input = new Uint32Array(LENGTH);
    const output = new Uint32Array(LENGTH);
    for (const [offset, k] of events) {
      const day = Math.min(LENGTH - 1, Math.max(0, centre + Math.round((offset / LENGTH) * width)));
      input[day]! += k;
      output[Math.min(LENGTH - 1, day + (k % 3))]! += k;
    }
    for (const d of strays) input[d]!++;
    return { input, output, mustFrom, mustTo: mustFrom + mustDays };
  });

const sum = (a: ArrayLike<number>, from = 0, to = a.length - 1) => {
  let s = 0;
  for (let i = Math.max(0, from); i <= Math.min(a.length - 1, to); i++) s += a[i]!;
  return s;
};
const dayKey = (i: number) => new Date((FIRST_DAY + i) * 86_400_000).toISOString().slice(0, 10);

describe('countTicks', () => {
  it('gives whole numbers from 0 in equal steps of 1, 2, 2.5 or 5 × 10^k that just cover the max, at most 5 ticks', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 4_000_000_000 })), (max) => {
        const ticks = countTicks(max);
        expect(ticks[0]).toBe(0);
        expect(ticks.every(Number.isInteger)).toBe(true);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(5);
        const step = ticks[1]! - ticks[0]!;
        expect(ticks.every((t, i) => t === i * step)).toBe(true);
        const mantissa = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 2.5, 5]).toContain(mantissa);
        expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
        // no tick above the one that first reaches the max
        expect(ticks[ticks.length - 2]!).toBeLessThan(Math.max(1, max));
      }),
    );
  });

  it('never gives half rows', () => {
    expect(countTicks(0)).toEqual([0, 1]);
    expect(countTicks(1)).toEqual([0, 1]);
    expect(countTicks(2)).toEqual([0, 1, 2]);
    expect(countTicks(3)).toEqual([0, 1, 2, 3]);
    expect(countTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(countTicks(101)).toEqual([0, 50, 100, 150]);
  });
});

describe('bucketDays', () => {
  it('puts every event in exactly one bar (a bucket, "older" or "newer"), keeps the marker days in the buckets and at most ~10 years of bars', () => {
    fc.assert(
      fc.property(daysArb, ({ input, output, mustFrom, mustTo }) => {
        const h = bucketDays({ firstDay: FIRST_DAY, input, output }, mustFrom, mustTo);
        const inBuckets = (k: 'input' | 'output') => h.buckets.reduce((s, b) => s + b[k], 0);
        expect(inBuckets('input') + (h.older?.input ?? 0) + (h.newer?.input ?? 0)).toBe(sum(input));
        expect(inBuckets('output') + (h.older?.output ?? 0) + (h.newer?.output ?? 0)).toBe(sum(output));
        const key = (i: number) => (h.unit === 'day' ? dayKey(i) : dayKey(i).slice(0, 7));
        const keys = h.buckets.map((b) => b.start);
        expect(new Set(keys).size).toBe(keys.length);
        expect(keys).toEqual([...keys].sort());
        const clampDay = (d: number) => Math.max(0, Math.min(LENGTH - 1, d));
        expect(keys).toContain(key(clampDay(mustFrom)));
        expect(keys).toContain(key(clampDay(Math.max(mustFrom, mustTo))));
        expect(h.buckets.length).toBeLessThanOrEqual(h.unit === 'day' ? 121 : Math.ceil(MAX_WINDOW_DAYS / 28) + 2);
        // the clipped events lie wholly outside the bars, and their farthest day is named
        if (h.older) {
          expect(h.older.earliest < h.buckets[0]!.start).toBe(true);
          expect(h.older.before).toBe(h.buckets[0]!.start);
        }
        if (h.newer) {
          expect(h.newer.latest.slice(0, h.unit === 'day' ? 10 : 7) > h.newer.after).toBe(true);
          expect(h.newer.after).toBe(keys[keys.length - 1]);
        }
      }),
    );
  });

  it('clips nothing when every event lies within three years of the others and of the marker year', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LENGTH - 1096 }),
        fc.array(fc.integer({ min: 0, max: 1095 }), { minLength: 1, maxLength: 100 }),
        fc.integer({ min: 0, max: 730 }),
        (start, offsets, markersAt) => {
          const input = new Uint32Array(LENGTH);
          for (const o of offsets) input[start + o]!++;
          const mustFrom = start + markersAt;
          const h = bucketDays({ firstDay: FIRST_DAY, input, output: new Uint32Array(LENGTH) }, mustFrom, mustFrom + 365);
          expect(h.older).toBeNull();
          expect(h.newer).toBeNull();
        },
      ),
    );
  });

  it('moves a lone event years before a cluster into "older" and keeps the cluster\'s bars wide', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 365 * 8, max: LENGTH - 400 }),
        fc.array(fc.integer({ min: 0, max: 364 }), { minLength: 4, maxLength: 300 }),
        fc.integer({ min: 365 * 4, max: 365 * 8 }),
        (start, offsets, yearsBack) => {
          const input = new Uint32Array(LENGTH);
          for (const o of offsets) input[start + o]!++;
          input[start - yearsBack]!++;
          const h = bucketDays({ firstDay: FIRST_DAY, input, output: new Uint32Array(LENGTH) }, start, start + 364);
          expect(h.older).toEqual({ before: h.buckets[0]!.start, earliest: dayKey(start - yearsBack), input: 1, output: 0 });
          expect(h.buckets.length).toBeLessThanOrEqual(14);
        },
      ),
    );
  });

  it('says the clipped events in words', () => {
    const input = new Uint32Array(LENGTH);
    input[1247]! += 12; // 2003-06-01
    input[1248]! += 1;
    for (let d = 9000; d < 9300; d++) input[d]! += 3;
    const h = bucketDays({ firstDay: FIRST_DAY, input, output: new Uint32Array(LENGTH) }, 9000, 9300);
    expect(olderNote(h.older!)).toBe(`13 input rows before ${h.buckets[0]!.start} in the first bar (the earliest 2003-06-01)`);
  });

  it('chooseWindow with no events is the marker days', () => {
    expect(chooseWindow(new Uint32Array(100), 10, 20)).toEqual({ lo: 10, hi: 20 });
    expect(chooseWindow(new Uint32Array(100), -5, 200)).toEqual({ lo: 0, hi: 99 });
  });
});
