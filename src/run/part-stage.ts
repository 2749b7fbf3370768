import { BackfillError } from '../errors.js';
import type { JobState, PartStage, PartState } from '../model/manifest.js';

export type { PartStage } from '../model/manifest.js';

/**
 * A part's stage through the CSV import job, and the only functions that change it. Pure: the
 * callers (upload, launch, wait, the transform's commit) set the other fields and save.
 *
 *   transformed → uploaded → launching → launched → finished | failed
 *
 * A launch Leanplum refused goes back to uploaded; with --relaunch, a failed job and a launch
 * whose outcome is unknown (still launching after a crash) go back to uploaded before launching
 * again. A finished part takes no event but its job seen finished again. (The API sink sends the run as a whole, recorded in its
 * ledger, not per part: it has no stage here.)
 */
export const PART_STAGES: readonly PartStage[] = ['transformed', 'uploaded', 'launching', 'launched', 'finished', 'failed'];

export type PartEvent =
  /** the file is in GCS (uploaded, or already there with the same crc32c) */
  | 'upload'
  /** 'launching' is saved before the POST */
  | 'launch'
  /** the job id is known: the POST's answer, or --adopt-job after a lost answer */
  | 'launched'
  /** Leanplum refused the launch: nothing was created */
  | 'launch-refused'
  /** wait saw the job pending or running */
  | 'job-running'
  | 'job-finished'
  | 'job-failed'
  /** --relaunch: the failed job or unknown launch goes to the history */
  | 'relaunch';

export const PART_EVENTS: readonly PartEvent[] = ['upload', 'launch', 'launched', 'launch-refused', 'job-running', 'job-finished', 'job-failed', 'relaunch'];

const NEXT: Readonly<Record<PartStage, Partial<Record<PartEvent, PartStage>>>> = {
  transformed: { upload: 'uploaded' },
  uploaded: { launch: 'launching' },
  launching: { launched: 'launched', 'launch-refused': 'uploaded', relaunch: 'uploaded' },
  launched: { 'job-running': 'launched', 'job-finished': 'finished', 'job-failed': 'failed' },
  // wait polls every launched job, ended ones again on a later call: the same end seen again changes nothing
  finished: { 'job-finished': 'finished' },
  failed: { 'job-failed': 'failed', relaunch: 'uploaded' },
};

/** The stage after `event`, or a refusal naming why the event cannot happen in `stage`. */
export function nextStage(stage: PartStage, event: PartEvent): PartStage | { refused: string } {
  const to = NEXT[stage][event];
  return to ?? { refused: `a part that is ${stage} cannot take '${event}'` };
}

/** The event a job state seen by wait stands for. */
export const jobEvent = (state: JobState): PartEvent => (state === 'FINISHED' ? 'job-finished' : state === 'FAILED' ? 'job-failed' : 'job-running');

/**
 * The part's stage: the recorded one, else (manifests written before `stage` existed) what its
 * optional fields show.
 */
export function partStage(p: PartState): PartStage {
  if (p.stage !== undefined) return p.stage;
  if (p.launch?.status === 'launching') return 'launching';
  if (p.launch?.status === 'launched') {
    if (p.job?.state === 'FINISHED') return 'finished';
    if (p.job?.state === 'FAILED') return 'failed';
    return 'launched';
  }
  return p.upload ? 'uploaded' : 'transformed';
}

/**
 * Moves the part to its next stage (recording it in `stage`); an event its stage cannot take is a
 * bug in the caller, or a manifest edited by hand, and stops the command before it is saved.
 */
export function advance(p: PartState, event: PartEvent): void {
  const from = partStage(p);
  const to = nextStage(from, event);
  if (typeof to !== 'string') {
    throw new BackfillError(
      'STAGE_REFUSED',
      `${p.file}: ${to.refused}`,
      'The run state does not match what this command did. Check `lp-backfill status <dir>`; if manifest.json was edited by hand, restore it.',
    );
  }
  p.stage = to;
}
