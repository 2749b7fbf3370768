// The histogram's axis: which days get bars, how they group into buckets, and the count ticks.
// Pure functions over the collector's per-day counts; docs/report.md explains the rule to users.
import type { HistogramBucket, HistogramNewer, HistogramOlder } from '../model/report.js';

const DAY = 86_400;

/** Tukey's "far out" fence: 3 × the interquartile range beyond the quartiles … */
export const FENCE_IQRS = 3;
/** … where the range counts as at least a year, so a tight cluster keeps its neighbours. */
export const MIN_SPREAD_DAYS = 365;
/** At most this many days (about 10 years: 120 monthly bars, each ≥ 6 px wide) get bars. */
export const MAX_WINDOW_DAYS = 3653;
/** Up to this many days between the first and last bar: one bar per day; beyond: per month. */
export const MAX_DAILY_DAYS = 120;

/** The day index at which the running count first reaches `rank` (1-based). */
function dayAtRank(counts: ArrayLike<number>, rank: number): number {
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return i;
  }
  return counts.length - 1;
}

/**
 * The days that get bars, as indexes into `counts` (events per day): from the first to the last
 * day with events, but days beyond the far-out fence (more than 3 × max(IQR, 1 year) before the
 * first quartile or after the third) go to an "older" or "newer" bar instead, and the window never
 * spans more than MAX_WINDOW_DAYS (the older side gives way). The days [mustFrom, mustTo] (the
 * markers: cutoff … import time) are always inside.
 */
export function chooseWindow(counts: ArrayLike<number>, mustFrom: number, mustTo: number): { lo: number; hi: number } {
  const last = counts.length - 1;
  const from = Math.max(0, Math.min(mustFrom, last));
  const to = Math.max(from, Math.min(mustTo, last));
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return { lo: from, hi: to };
  const q1 = dayAtRank(counts, Math.ceil(total * 0.25));
  const q3 = dayAtRank(counts, Math.ceil(total * 0.75));
  const reach = FENCE_IQRS * Math.max(q3 - q1, MIN_SPREAD_DAYS);
  const fenceLo = q1 - reach;
  const fenceHi = q3 + reach;
  // the first and last days with events inside the fences (empty days at the edges get no bars)
  let lo = from;
  for (let i = Math.max(0, fenceLo); i < from; i++) {
    if (counts[i]! > 0) {
      lo = i;
      break;
    }
  }
  let hi = to;
  for (let i = Math.min(last, fenceHi); i > to; i--) {
    if (counts[i]! > 0) {
      hi = i;
      break;
    }
  }
  if (hi - lo + 1 > MAX_WINDOW_DAYS) {
    lo = Math.min(from, hi - MAX_WINDOW_DAYS + 1);
    hi = Math.max(to, lo + MAX_WINDOW_DAYS - 1);
  }
  return { lo, hi };
}

/** Whole-number ticks from 0: steps of 1, 2, 5 (or 25, 250 …) × 10^k, at most `target` steps, the last ≥ max. */
export function countTicks(max: number, target = 4): number[] {
  const top = Math.max(1, Math.ceil(max));
  const raw = top / target;
  let step = 1;
  for (let p = 1; ; p *= 10) {
    const found = [1, 2, 2.5, 5].map((m) => m * p).find((s) => Number.isInteger(s) && s >= raw);
    if (found !== undefined) {
      step = found;
      break;
    }
  }
  const ticks: number[] = [];
  for (let v = 0; ; v += step) {
    ticks.push(v);
    if (v >= top) return ticks;
  }
}

export interface DayCounts {
  /** the epoch day (seconds / 86400) of index 0 */
  firstDay: number;
  input: ArrayLike<number>;
  output: ArrayLike<number>;
}

const dateOf = (firstDay: number, i: number) => new Date((firstDay + i) * DAY * 1000).toISOString().slice(0, 10);

/**
 * Buckets for the chart: one per day (a window up to MAX_DAILY_DAYS) or per calendar month,
 * snapped to whole buckets, plus the events outside the window in `older` / `newer`. Every event
 * is in exactly one of them.
 */
export function bucketDays(
  c: DayCounts,
  mustFrom: number,
  mustTo: number,
): { unit: 'day' | 'month'; buckets: HistogramBucket[]; older: HistogramOlder | null; newer: HistogramNewer | null } {
  const n = c.input.length;
  const both = new Float64Array(n);
  for (let i = 0; i < n; i++) both[i] = c.input[i]! + c.output[i]!;
  let { lo, hi } = chooseWindow(both, mustFrom, mustTo);
  const byDay = hi - lo <= MAX_DAILY_DAYS;
  const key = (i: number) => (byDay ? dateOf(c.firstDay, i) : dateOf(c.firstDay, i).slice(0, 7));
  // whole months: a bar never holds part of its month while the rest sits in "older"
  while (lo > 0 && key(lo - 1) === key(lo)) lo--;
  while (hi < n - 1 && key(hi + 1) === key(hi)) hi++;
  const buckets: HistogramBucket[] = [];
  let current = '';
  for (let i = lo; i <= hi; i++) {
    const k = key(i);
    if (k !== current) {
      buckets.push({ start: k, input: 0, output: 0 });
      current = k;
    }
    const b = buckets[buckets.length - 1]!;
    b.input += c.input[i]!;
    b.output += c.output[i]!;
  }
  // the events outside the window: their counts and the farthest day
  const outside = (from: number, to: number) => {
    let input = 0;
    let output = 0;
    let first = -1;
    let last = -1;
    for (let i = from; i <= to; i++) {
      if (both[i]! === 0) continue;
      input += c.input[i]!;
      output += c.output[i]!;
      if (first < 0) first = i;
      last = i;
    }
    return first < 0 ? null : { input, output, first: dateOf(c.firstDay, first), last: dateOf(c.firstDay, last) };
  };
  const o = outside(0, lo - 1);
  const w = outside(hi + 1, n - 1);
  return {
    unit: byDay ? 'day' : 'month',
    buckets,
    older: o && { before: buckets[0]!.start, earliest: o.first, input: o.input, output: o.output },
    newer: w && { after: current, latest: w.last, input: w.input, output: w.output },
  };
}

const rows = (k: number, what: 'input' | 'written') => `${k.toLocaleString('en-US')} ${what} ${k === 1 ? 'row' : 'rows'}`;
const counted = (x: { input: number; output: number }) =>
  [x.input > 0 ? rows(x.input, 'input') : '', x.output > 0 ? rows(x.output, 'written') : ''].filter((s) => s !== '').join(' and ');

/** "1 input row before 2025-11 in the first bar (the earliest 2003-06-01)", said on the chart. */
export function olderNote(x: HistogramOlder): string {
  return `${counted(x)} before ${x.before} in the first bar (the earliest ${x.earliest})`;
}

export function newerNote(x: HistogramNewer): string {
  return `${counted(x)} after ${x.after} in the last bar (the latest ${x.latest})`;
}
