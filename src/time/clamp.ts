/**
 * The 365-day rule (DESIGN.md "The time rule"). All values are UTC epoch seconds or durations in
 * seconds. Pure: the import time is an input, never read from a clock.
 */
export const DAY = 86_400;
/** Leanplum tracks an event older than this, measured at processing time, as if it happened "now". */
export const PLATFORM_WINDOW = 365 * DAY;

/**
 * keep:     DESIGN.md literally. t ≥ cutoff is untouched, older goes to T − A. Events between the
 *           cutoff and T − A stay where they are, so an event clamped forward can land after them.
 * monotone: t' = max(t, T − A). Never reorders events (ties instead), at the price of also moving
 *           the events between the cutoff and T − A (at most W − A − D of shift).
 */
export type ClampMode = 'keep' | 'monotone';

export interface TimeRule {
  importAt: number;
  maxDelay: number;
  clampAge: number;
  window: number;
  futureTolerance: number;
  minTime: number;
  mode: ClampMode;
  /**
   * The real clock when the transform ran. An --import-at ahead of it must not let events from
   * the future in: future is judged against the earlier of T and this. Absent: T alone.
   */
  clock?: number | undefined;
}

export const cutoffOf = (r: TimeRule): number => r.importAt + r.maxDelay - r.window;
export const clampTargetOf = (r: TimeRule): number => r.importAt - r.clampAge;
/** After this moment the clamp no longer protects the oldest rows: re-run the transform. */
export const staleAfterOf = (r: TimeRule): number => r.importAt + r.maxDelay;
/** The same deadline as recorded in summary.json / manifest.json (ISO-8601). */
/** Events after this are rejected as future: the earlier of T and the real clock, plus the tolerance. */
export const futureLimitOf = (r: TimeRule): number => Math.min(r.importAt, r.clock ?? r.importAt) + r.futureTolerance;
export const isStale = (staleAfterIso: string, now: Date): boolean => now.getTime() > Date.parse(staleAfterIso);

/** Problems that make the rule unsafe, as "path: message" lines. */
export function ruleProblems(r: TimeRule): string[] {
  const out: string[] = [];
  if (r.maxDelay < 0) out.push('max-delay: must not be negative');
  if (r.clampAge <= 0) out.push('clamp-age: must be positive');
  if (r.clampAge >= r.window) {
    out.push(
      `clamp-age: ${r.clampAge / DAY}d is not inside Leanplum's 365-day window: clamped events would still be too old; use less than 365d (default 360d)`,
    );
  } else if (clampTargetOf(r) < cutoffOf(r)) {
    const spare = r.window - r.clampAge;
    out.push(
      `max-delay: ${r.maxDelay / DAY}d plus clamp-age ${r.clampAge / DAY}d exceeds Leanplum's 365-day window, ` +
        `so clamped events could still be older than 365 days when Leanplum processes them. ` +
        `Keep max-delay ≤ ${spare / DAY}d (365d − clamp-age), or lower --clamp-age.`,
    );
  }
  if (r.futureTolerance < 0) out.push('future-tolerance: must not be negative');
  if (r.minTime >= r.importAt) out.push('min-time: must be before the import time');
  // a year typo in --import-at would move recent events forward and let future ones in
  if (r.clock !== undefined && r.importAt > r.clock + r.maxDelay)
    out.push(
      `import-at: ${new Date(r.importAt * 1000).toISOString()} is more than max-delay (${r.maxDelay / DAY}d) after the real clock (${new Date(r.clock * 1000).toISOString()}); ` +
        'an import time in the future would clamp recent events and accept future ones. Give the time the import will really run (or leave --import-at out: now)',
    );
  return out;
}

/** The clamp alone: identity on recent events, the clamp target for old ones. Idempotent. */
export function clampTime(t: number, r: TimeRule): number {
  const target = clampTargetOf(r);
  if (r.mode === 'monotone') return Math.max(t, target);
  return t < cutoffOf(r) ? target : t;
}

/** 'clamped': moved forward by the 365-day rule; 'nudged': within the future tolerance, set back to T. */
export type TimeChange = 'none' | 'clamped' | 'nudged';

export type TimeVerdict = { kind: 'ok'; time: number; change: TimeChange } | { kind: 'future' } | { kind: 'implausible' };

/** Implausible and future times are refused; everything else is clamped as needed. */
export function applyTimeRule(t: number, r: TimeRule): TimeVerdict {
  if (t < r.minTime) return { kind: 'implausible' };
  if (t > futureLimitOf(r)) return { kind: 'future' };
  // A little clock skew is tolerated, but nothing may be written after the import time.
  if (t > r.importAt) return { kind: 'ok', time: r.importAt, change: 'nudged' };
  const out = clampTime(t, r);
  return { kind: 'ok', time: out, change: out === t ? 'none' : 'clamped' };
}
