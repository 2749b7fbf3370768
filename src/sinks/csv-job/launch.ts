import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../../errors.js';
import type { LeanplumClient } from '../../leanplum/client.js';
import type { Manifest, PartState } from '../../model/manifest.js';
import { openPublic, revokePublic } from './exposure.js';
import type { RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { saveManifest } from '../../run/manifest.js';
import { adviceCommand, shellWord } from '../../run/advice.js';
import { type LaunchPlan, unknownLaunch } from '../../run/run-machine.js';
import { advance } from '../../run/part-stage.js';
import { actionOf, kindOfOptions } from '../../model/kinds.js';

export interface LaunchOptions {
  /** launch again the parts whose job ended FAILED */
  relaunch: boolean;
  /** launch again the parts whose launch, started at one of these times, had no answer */
  relaunchUnknown: readonly string[];
  publicWhileImporting: boolean;
  now: () => Date;
  appId: string;
  apiUrl: string;
}

export interface LaunchOutcome {
  manifest: Manifest;
  launched: string[];
  /** parts whose job ended FAILED and that were left alone (no --relaunch) */
  failedWithoutRelaunch: string[];
}

/**
 * The earlier launch goes to the part's history before a new one replaces it. A public window
 * that is still open (an unknown launch) stays with the part, so the exposure is counted from
 * its true start.
 */
function archive(part: PartState, outcome: 'FAILED' | 'unknown', now: Date): void {
  advance(part, 'relaunch');
  const l = part.launch!;
  const closed = part.public?.until !== undefined;
  (part.history ??= []).push({
    outcome,
    startedAt: l.startedAt,
    ...(l.jobId !== undefined ? { jobId: l.jobId } : {}),
    ...(l.launchedAt !== undefined ? { launchedAt: l.launchedAt } : {}),
    ...(part.job?.error !== undefined ? { error: part.job.error } : {}),
    ...(closed ? { public: { ...part.public! } } : {}),
    replacedAt: now.toISOString(),
  });
  delete part.job;
  if (closed) delete part.public;
}

/**
 * The job id is the one thing that must not be lost. With the state in GCS another task may have
 * saved in between (a lost compare-and-swap): the state is read again and, if it still shows this
 * very launch as 'launching', the id is written into it; anything else is a conflict the user must
 * see, with the id to adopt.
 */
async function saveLaunched(lock: RunLock, m: Manifest, part: PartState, log: Log, now: () => Date): Promise<void> {
  let current = m;
  for (let attempt = 1; ; attempt++) {
    try {
      await saveManifest(lock, current, now());
      return;
    } catch (e) {
      if (!(e instanceof BackfillError && e.code === 'STATE_CONFLICT') || lock.mirror === undefined || attempt >= 5) {
        throw new BackfillError(
          'STATE_CONFLICT',
          `${part.file} was launched as job ${part.launch!.jobId}, but that could not be saved: ${(e as Error).message}`,
          `Record it by hand: \`${adviceCommand('launch', lock.dir, m.leanplum, ` --adopt-job ${shellWord(part.file)}=${part.launch!.jobId}`)}\``,
          { cause: e },
        );
      }
      const fresh = await lock.mirror.reload();
      const same = fresh.parts.find((p) => p.file === part.file);
      if (same?.launch?.status !== 'launching' || same.launch.startedAt !== part.launch!.startedAt) {
        throw new BackfillError(
          'STATE_CONFLICT',
          `${part.file} was launched as job ${part.launch!.jobId}, but another task changed its state meanwhile`,
          `Check both tasks; if job ${part.launch!.jobId} is the only one: \`${adviceCommand('launch', lock.dir, m.leanplum, ` --adopt-job ${shellWord(part.file)}=${part.launch!.jobId}`)}\``,
        );
      }
      advance(same, 'launched');
      same.launch = { ...part.launch! };
      fresh.leanplum ??= m.leanplum!;
      current = fresh;
      log('conflict', { file: part.file }, `conflict   another task saved the state meanwhile; job ${part.launch!.jobId} written into the state read again`);
    }
  }
}

/**
 * A launch whose answer was lost, for which the user found the job in Leanplum: its id is
 * recorded as if the answer had come, so the run follows that job and never launches another.
 */
export async function adoptJob(
  lock: RunLock,
  m: Manifest | undefined,
  file: string,
  jobId: string,
  leanplum: { appId: string; apiUrl: string },
  now: Date,
  log: Log,
): Promise<void> {
  const part = m?.parts.find((p) => p.file === file);
  if (m === undefined || part === undefined) {
    throw new BackfillError('STAGE_REFUSED', `adopt-job: ${lock.dir} has no part ${file}`, `Parts: ${m?.parts.map((p) => p.file).join(', ') || 'none'}.`);
  }
  // the same command again (from the shell history) is nothing to do, not an error
  if (part.launch?.status === 'launched' && part.launch.jobId === jobId) {
    log('adopted', { file, jobId }, `adopted    ${file}: job ${jobId} already recorded, nothing to do`);
    return;
  }
  const taken = m.parts.flatMap((p) =>
    [p.launch?.jobId, ...(p.history ?? []).map((h) => h.jobId)].filter((j) => j !== undefined).map((j) => ({ j, file: p.file })),
  );
  const other = taken.find((t) => t.j === jobId);
  if (other !== undefined) {
    throw new BackfillError(
      'STAGE_REFUSED',
      `adopt-job: job ${jobId} is already recorded for ${other.file} in this run`,
      "Give the job Leanplum shows for this part's object (the message of the lost launch names it).",
    );
  }
  if (part.launch?.status !== 'launching') {
    throw new BackfillError(
      'STAGE_REFUSED',
      `adopt-job: ${file} has no launch with an unknown outcome (it is ${part.launch?.status ?? 'not launched'})`,
      'Only a launch that ended without an answer can be given a job id.',
    );
  }
  advance(part, 'launched');
  part.launch = {
    ...part.launch,
    status: 'launched',
    jobId,
    launchedAt: now.toISOString(),
    message: 'job id given with --adopt-job after the answer was lost',
  };
  // the job lives in this app: status and wait need not ask for it again
  m.leanplum ??= leanplum;
  await saveManifest(lock, m, now);
  log('adopted', { file, jobId }, `adopted    ${file}: job ${jobId} (the launch whose answer was lost)`);
}

/**
 * Launches one job per part the plan names (the run machine's mayLaunch, asked by the caller on
 * this same manifest), at most once per call: 'launching' is saved durably before the POST and the
 * jobId after, so a crash in between is an unknown outcome that only --relaunch retries. With
 * --relaunch, parts whose job ended FAILED get a new job too; finished and running parts never do.
 */
export async function launchStage(
  lock: RunLock,
  man: Manifest,
  plan: LaunchPlan,
  client: LeanplumClient,
  storage: Storage | undefined,
  o: LaunchOptions,
  log: Log,
): Promise<LaunchOutcome> {
  const dir = lock.dir;
  const { launch, failedWithoutRelaunch } = plan;
  const launched: string[] = [];
  for (const { part, replaces } of launch) {
    if (replaces !== undefined) {
      archive(part, replaces, o.now());
      log(
        'relaunch',
        { file: part.file, replaces },
        `relaunch   ${part.file}: the earlier ${replaces === 'FAILED' ? 'job FAILED' : 'launch had no answer'}; launching a new job`,
      );
    }
    if (o.publicWhileImporting && storage) await openPublic(lock, man, part, storage, log, o.now);
    advance(part, 'launch');
    part.launch = { status: 'launching', startedAt: o.now().toISOString(), attempts: (part.launch?.attempts ?? 0) + 1 };
    // recorded before the POST, so that the advice after a lost answer can name the app
    const bound = man.leanplum;
    man.leanplum ??= { appId: o.appId, apiUrl: o.apiUrl };
    await saveManifest(lock, man, o.now());
    try {
      const r = await client.launch({ bucket: part.bucket!, file: part.object!, defaultAction: actionOf(kindOfOptions(man.transform?.options)) });
      advance(part, 'launched');
      part.launch = { ...part.launch, status: 'launched', jobId: r.jobId, launchedAt: o.now().toISOString() };
      await saveLaunched(lock, man, part, log, o.now);
      launched.push(part.file);
      log('launched', { file: part.file, jobId: r.jobId }, `launched   ${part.file}: job ${r.jobId}${r.warning ? ` (warning: ${r.warning})` : ''}`);
    } catch (e) {
      if (e instanceof BackfillError && e.code === 'LEANPLUM_FAILED') {
        // a clear refusal: nothing was created, so launching again later is safe
        advance(part, 'launch-refused');
        part.launch = { ...part.launch, status: 'refused', message: e.message };
        // a launch that provably reached nothing (a mistyped --api-url) binds nothing
        if (bound === undefined) delete man.leanplum;
        await revokePublic(lock, man, part, storage, log, o.now);
        await saveManifest(lock, man, o.now());
      }
      if (e instanceof BackfillError && e.code === 'LAUNCH_UNKNOWN') {
        // the same two ways out as any later command gives, naming this very launch
        throw new BackfillError('LAUNCH_UNKNOWN', e.message, unknownLaunch(dir, part, man).fix, { cause: e });
      }
      throw e;
    }
  }
  return { manifest: man, launched, failedWithoutRelaunch: failedWithoutRelaunch.map((p) => p.file) };
}
