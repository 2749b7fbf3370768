import type { RowOptions } from '../../src/events/row.js';
import type { ClampMode, TimeRule } from '../../src/time/clamp.js';

// DESIGN.md "The time rule", written out with its own numbers. Nothing here is taken from
// src/time, so a constant or formula that drifts there cannot drift the expectation with it.

/** 365 × 86 400 s: Leanplum's documented window. */
export const W = 31_536_000;
/** 86 400 s */
export const DAY = 86_400;
/** 2000-01-01T00:00:00Z, the default --min-time */
export const MIN_TIME_2000 = 946_684_800;

/** The rule's inputs as DESIGN.md names them (the platform window is not one: it is W). */
export interface SpecRule {
  /** T */
  importAt: number;
  /** D */
  maxDelay: number;
  /** A */
  clampAge: number;
  futureTolerance: number;
  minTime: number;
  mode: ClampMode;
}

export type SpecVerdict = { kind: 'ok'; time: number; change: 'none' | 'clamped' | 'nudged' } | { kind: 'future' } | { kind: 'implausible' };

/** What DESIGN.md says happens to an event at `t`, one sentence per line. */
export function specVerdict(t: number, r: SpecRule): SpecVerdict {
  const T = r.importAt;
  if (t < r.minTime) return { kind: 'implausible' };
  if (t > T + r.futureTolerance) return { kind: 'future' };
  if (t > T) return { kind: 'ok', time: T, change: 'nudged' };
  const out = r.mode === 'monotone' ? Math.max(t, T - r.clampAge) : t < T + r.maxDelay - W ? T - r.clampAge : t;
  return { kind: 'ok', time: out, change: out === t ? 'none' : 'clamped' };
}

/** "Valid only while T − A ≥ cutoff (i.e. D ≤ W − A)", plus the signs the options must have. */
export const specAccepts = (r: SpecRule): boolean =>
  r.maxDelay >= 0 && r.clampAge > 0 && r.futureTolerance >= 0 && r.minTime < r.importAt && r.maxDelay <= W - r.clampAge;

/** The implementation's rule object for a spec rule, with the window given as the literal W. */
export const toRule = (r: SpecRule): TimeRule => ({ ...r, window: W });

/** The default rule (D = 2d, A = 360d, 5 min tolerance, min time 2000-01-01) at import time T. */
export const defaultRule = (importAt: number, over: Partial<TimeRule> = {}): TimeRule => ({
  importAt,
  maxDelay: 172_800,
  clampAge: 31_104_000,
  window: W,
  futureTolerance: 300,
  minTime: MIN_TIME_2000,
  mode: 'keep',
  ...over,
});

export const rowOptions = (importAt: number, over: Partial<RowOptions> = {}): RowOptions => ({
  rule: defaultRule(importAt),
  timeFormat: 'auto',
  zone: 'UTC',
  maxCount: 1000,
  valueIsTotal: false,
  ...over,
});

/**
 * The n occurrence times of a counted row: evenly spread from first to last inclusive, each the
 * ideal instant first + i·(last − first)/(n − 1) floored to a whole second (so first and last are
 * exact). BigInt, so the flooring is exact whatever the size.
 */
export function specSpread(first: number, last: number, n: number): number[] {
  if (n === 1) return [first];
  const span = BigInt(last - first);
  return Array.from({ length: n }, (_, i) => first + Number((BigInt(i) * span) / BigInt(n - 1)));
}
