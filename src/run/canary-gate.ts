import type { Manifest, PartState } from '../model/manifest.js';

// The canary's gate (issue 20): the rest of a run is imported only once the canary's part was
// imported alone, to its end, with at most --canary-max-failures failed rows and "Past event
// detected" warnings. Pure: decided from what the run recorded.

/** What the canary found: rows Leanplum failed, and rows it filed at the import time. */
export interface CanaryCounts {
  failedRows: number;
  pastEventWarnings: number;
}

export type CanaryGate =
  /** no canary part: every part is launched (or sent) as before */
  | { state: 'none' }
  /** the canary is not imported to its end yet: only it may be launched (sent) */
  | { state: 'pending'; part: PartState }
  | ({ state: 'passed' | 'stopped'; part: PartState; maxFailures: number } & CanaryCounts);

/** A canary imported to its end and judged. */
export type JudgedCanary = Extract<CanaryGate, { maxFailures: number }>;

/** The verdict: what the canary found, against --canary-max-failures. */
export const canaryVerdict = (c: CanaryCounts, maxFailures: number): 'passed' | 'stopped' =>
  c.failedRows + c.pastEventWarnings <= maxFailures ? 'passed' : 'stopped';

/** The canary's part, if the run has one. */
export const canaryPart = (m: Manifest): PartState | undefined => m.parts.find((p) => p.canary === true);

/**
 * The CSV job's gate: the canary's job FINISHED gives the counts; anything short of that (not
 * launched, running, FAILED, its launch unknown) is pending. The verdict is judged again with each
 * command's --canary-max-failures, so a run stopped by its canary goes on when asked with a
 * higher allowance, and a canary that passed is never imported again.
 */
export function canaryGate(m: Manifest, maxFailures: number): CanaryGate {
  const part = canaryPart(m);
  if (part === undefined) return { state: 'none' };
  const job = part.job;
  if (part.launch?.status !== 'launched' || job?.state !== 'FINISHED') return { state: 'pending', part };
  const counts = { failedRows: job.failures ?? 0, pastEventWarnings: job.pastEventWarnings ?? 0 };
  // the rest is launched: the verdict that let it go (with its allowance) holds; judging it again
  // with a lower one would say "stopped, nothing else launched" of a run whose rows are all in
  if (restStarted(m)) return { state: 'passed', part, maxFailures: Math.max(maxFailures, m.canary?.maxFailures ?? 0), ...counts };
  return { state: canaryVerdict(counts, maxFailures), part, maxFailures, ...counts };
}

/** Whether any part other than the canary's was launched (its launch started, whatever came of it). */
export const restStarted = (m: Manifest): boolean => m.parts.some((p) => p.canary !== true && p.launch !== undefined);
