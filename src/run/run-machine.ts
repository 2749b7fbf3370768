import { BackfillError, type ErrorCode } from '../errors.js';
import type { Manifest, PartState } from '../model/manifest.js';
import { isStale } from '../time/clamp.js';
import { adviceCommand, shellWord, statusCommand } from './advice.js';
import { partStage } from './part-stage.js';

/**
 * The run directory as a state machine. Each stage asks here "may I?" and gets a Refusal (why,
 * and how to fix it) or nothing; every command path (transform, upload, launch, wait, run) goes
 * through these same gates, so no path can skip one. Pure: the caller loads the manifest.
 *
 * Part states: transformed → uploaded → launching → launched → FINISHED | FAILED
 * (a launch Leanplum refused goes back to uploaded; FAILED and an unknown launch go back to
 * uploaded only with --relaunch).
 */
export type Gate =
  | 'no-transform'
  | 'committing'
  | 'sampled'
  | 'reject-rate'
  | 'conservation'
  | 'stale'
  | 'options-changed'
  | 'inputs-changed'
  | 'already-uploaded'
  | 'target-changed'
  | 'not-uploaded'
  | 'launch-unknown'
  | 'job-failed'
  | 'api-url-changed'
  | 'app-changed'
  | 'not-launched'
  | 'other-sink';

export interface Refusal {
  gate: Gate;
  message: string;
  fix: string;
}

const CODE: Readonly<Record<Gate, ErrorCode>> = {
  'no-transform': 'STAGE_REFUSED',
  committing: 'STAGE_REFUSED',
  sampled: 'SAMPLED_OUTPUT',
  'reject-rate': 'REJECT_RATE',
  conservation: 'CONSERVATION',
  stale: 'CLAMP_STALE',
  'options-changed': 'OPTIONS_CHANGED',
  'inputs-changed': 'OPTIONS_CHANGED',
  'already-uploaded': 'STAGE_REFUSED',
  'target-changed': 'STAGE_REFUSED',
  'not-uploaded': 'STAGE_REFUSED',
  'launch-unknown': 'LAUNCH_UNKNOWN',
  'job-failed': 'JOB_FAILED',
  'api-url-changed': 'STAGE_REFUSED',
  'app-changed': 'STAGE_REFUSED',
  'not-launched': 'STAGE_REFUSED',
  'other-sink': 'OPTIONS_CHANGED',
};

export const refusalError = (r: Refusal): BackfillError => new BackfillError(CODE[r.gate], r.message, r.fix);

/** Throws the refusal, if any: the one way a stage turns "no" into an exit code. */
export function enforce(r: Refusal | undefined): void {
  if (r !== undefined) throw refusalError(r);
}

export { partStage, type PartStage } from './part-stage.js';

export type Sink = 'csv-job' | 'api';

/**
 * The sink a run is bound to: the recorded one (`run` records it before its first sink stage,
 * `upload` and `send` at theirs), else what older manifests show: a target or an upload is the
 * CSV job's, a send the API sink's. Undefined: a transform no sink has taken yet.
 */
export function sinkOf(m: Manifest): Sink | undefined {
  if (m.sink !== undefined) return m.sink;
  if (m.target !== undefined || m.parts.some((p) => p.upload !== undefined || p.launch !== undefined)) return 'csv-job';
  if (m.send !== undefined) return 'api';
  return undefined;
}

/** One sink per run: the other would import the same rows a second time. */
export function sinkGate(m: Manifest, dir: string, sink: Sink): Refusal | undefined {
  // --kind users --clear-empty: a clear has no form in Leanplum's CSV (it documents no meaning for an empty cell)
  if (sink === 'csv-job' && clearsEmpty(m))
    return {
      gate: 'other-sink',
      message: `${dir} was transformed with --kind users --clear-empty: its clears (the clearUserAttributes column) can only be sent by the API sink; Leanplum's CSV import job has no way to clear an attribute, and nothing was uploaded`,
      fix: `Send it with \`lp-backfill send ${shellWord(dir)} --app-id …\` (the Production key), or transform again without --clear-empty for the CSV job.`,
    };
  const bound = sinkOf(m);
  if (bound === undefined || bound === sink) return undefined;
  return bound === 'api'
    ? {
        gate: 'other-sink',
        message: `${dir} is bound to the API sink (--sink api${m.send !== undefined ? ", sent or being sent through Leanplum's JSON multi" : ''}): the CSV import job would import its rows a second time`,
        fix: 'Finish it with `lp-backfill send <dir> --app-id …` (or `run … --sink api`), or transform into a new --out directory for the CSV job.',
      }
    : {
        gate: 'other-sink',
        message: `${dir} is bound to the CSV import job (--sink csv-job: uploaded to GCS or launched): sending it through the API as well would import its rows twice`,
        fix: 'Finish it with `lp-backfill wait`/`launch` (or `run` with --sink csv-job), or transform into a new --out directory for --sink api.',
      };
}

/** The run was transformed with --kind users --clear-empty (its recorded options say so). */
export function clearsEmpty(m: Manifest): boolean {
  const users = m.transform?.options?.['users'];
  return typeof users === 'object' && users !== null && (users as { clearEmpty?: unknown }).clearEmpty === true;
}

const anyUploaded = (m: Manifest) => m.parts.some((p) => p.upload !== undefined || p.launch !== undefined);

/** A new transform may replace the outputs only while nothing of them has left the machine. */
export function mayTransform(m: Manifest | undefined, dir: string): Refusal | undefined {
  if (m !== undefined && anyUploaded(m)) {
    return {
      gate: 'already-uploaded',
      message: `${dir} holds run ${m.runId}, already uploaded or launched: transforming into it would lose track of that`,
      fix: `Use a new --out directory. (Follow the existing run with \`${statusCommand(dir, m.leanplum?.apiUrl)}\`.)`,
    };
  }
  // a send has begun: its ledger and results belong to this clean output (a new transform would
  // overwrite it, and the run could then neither finish nor be told apart from a new one)
  if (m?.send !== undefined) {
    return {
      gate: 'already-uploaded',
      message: `${dir} holds run ${m.runId}, already sent (or being sent) through the API sink: transforming into it would lose track of what was sent`,
      fix: `Use a new --out directory. (Finish this run with \`${adviceCommand('send', dir, m.leanplum)}\`.)`,
    };
  }
  return undefined;
}

/** The transform's output is whole, full-sized and within the limits: the gates every cloud stage shares. */
export function outputGates(m: Manifest | undefined, dir: string): Refusal | undefined {
  if (m?.committing !== undefined) {
    return {
      gate: 'committing',
      message: `a transform into ${dir} stopped while moving its outputs in (started ${m.committing.startedAt}): the files there are a mix of two runs`,
      fix: `Transform again into ${dir} (nothing was uploaded), then upload.`,
    };
  }
  const t = m?.transform;
  if (m === undefined || t === undefined) {
    return {
      gate: 'no-transform',
      message: `${dir} holds no finished transform (manifest.json missing or incomplete)`,
      fix: 'Run `lp-backfill transform <input> --out <dir>` (or `run`) first.',
    };
  }
  if (t.sampled !== null) {
    return {
      gate: 'sampled',
      message: `${dir} holds a sampled preview (only the first ${t.sampled} row(s) were read): this is a sampled preview; transform the whole input`,
      fix: `Sampled output is never uploaded or launched. Run lp-backfill transform <input> --out ${dir} (without --sample), then upload.`,
    };
  }
  if (!t.conservationOk) {
    return {
      gate: 'conservation',
      message: `the transform in ${dir} did not account for every row`,
      fix: 'This is a bug in lp-backfill; please report it with summary.json.',
    };
  }
  if (t.rejectRateExceeded) {
    return {
      gate: 'reject-rate',
      message: `the transform in ${dir} rejected ${(t.rejectRate * 100).toFixed(2)}% of the rows, above --max-reject-rate ${t.maxRejectRate}: not uploaded or launched`,
      fix: `Look at ${dir}/rejects.csv, fix the mapping or the data (or raise --max-reject-rate), and transform again.`,
    };
  }
  return undefined;
}

export function mayUpload(m: Manifest | undefined, dir: string, target: { bucket: string; prefix: string }, now: Date): Refusal | undefined {
  const r = outputGates(m, dir) ?? sinkGate(m!, dir, 'csv-job');
  if (r !== undefined) return r;
  // an output that can no longer be launched is not worth uploading: it would only leave objects behind
  if (m!.parts.some((p) => !p.upload) && clampIsStale(m!.transform!, now)) return staleRefusal(m!.transform!);
  if (m!.target && (m!.target.bucket !== target.bucket || m!.target.prefix !== target.prefix)) {
    return {
      gate: 'target-changed',
      message: `this run was uploaded to gs://${m!.target.bucket}/${m!.target.prefix}, not gs://${target.bucket}/${target.prefix}`,
      fix: 'Use the same --to as before, or start a new run directory.',
    };
  }
  return undefined;
}

/**
 * Whether the run's clamp went stale. `--kind users` writes attributes, not events: no time in it
 * was clamped for the import time (created/lastActive are attributes), so it never goes stale and
 * may be launched or sent any time later.
 */
export function clampIsStale(t: NonNullable<Manifest['transform']>, now: Date): boolean {
  return t.options['kind'] !== 'users' && isStale(t.staleAfter, now);
}

export function staleRefusal(t: NonNullable<Manifest['transform']>): Refusal {
  return {
    gate: 'stale',
    message: `the clamp of this run is stale: it was computed for import time ${t.importAt} and is only safe until ${t.staleAfter}`,
    fix: 'Transform again so old events are clamped for the real import time (into this directory if nothing of it is uploaded, else a new --out), then upload and launch that.',
  };
}

/** What a launch call will do with each part. */
export interface LaunchPlan {
  launch: { part: PartState; replaces?: 'FAILED' | 'unknown' }[];
  /** FAILED parts left alone because --relaunch was not given */
  failedWithoutRelaunch: PartState[];
}

/**
 * The one refusal for a launch whose outcome is unknown, shared by launch and wait. Two ways out,
 * each naming this very launch (its start time), so that a command repeated from the shell history
 * after a later unknown launch cannot relaunch blindly.
 */
export function unknownLaunch(dir: string, part: PartState, m: Pick<Manifest, 'stateUrl' | 'leanplum'>): Refusal {
  const stateUrl = m.stateUrl;
  const started = part.launch!.startedAt;
  const exposed =
    part.public && !part.public.until
      ? ` The object is publicly readable since ${part.public.since} (--public-while-importing) and stays so until a job for it ends.`
      : '';
  return {
    gate: 'launch-unknown',
    message: `the launch of ${part.file} started ${started} ended without an answer: Leanplum may already be importing it.${exposed}`,
    fix: `Look at the app's import jobs in Leanplum (or ask Leanplum support) for ${part.object ?? part.file}. If a job exists: \`${adviceCommand('launch', dir, m.leanplum, ` --adopt-job ${shellWord(part.file)}=<its job id>`)}\`, then \`${adviceCommand('wait', dir, m.leanplum)}\`. If none exists: \`${adviceCommand('launch', dir, m.leanplum, ` --relaunch-unknown ${started} --yes`)}\`. Never both: a second job imports every row twice.${stateUrl === undefined ? '' : ` The run's state lives in ${stateUrl}: where ${dir} is gone (a batch engine's task), add the same --adopt-job or --relaunch-unknown to the task's own \`lp-backfill run … --state-to …\` command instead.`}`,
  };
}

export interface LaunchAsk {
  now: Date;
  /** launch again the parts whose job ended FAILED */
  relaunch: boolean;
  /** launch again the parts whose launch, started at one of these times, had no answer */
  relaunchUnknown: readonly string[];
  apiUrl: string;
  appId: string;
}

export function mayLaunch(m: Manifest | undefined, dir: string, o: LaunchAsk): Refusal | LaunchPlan {
  const r = outputGates(m, dir) ?? sinkGate(m!, dir, 'csv-job');
  if (r !== undefined) return r;
  const man = m!;
  const t = man.transform!;
  const url = apiUrlGate(man, o.apiUrl);
  if (url !== undefined) return url;
  if (man.leanplum && man.leanplum.appId !== o.appId) {
    return {
      gate: 'app-changed',
      message: `this run's jobs were launched into app ${man.leanplum.appId}, not ${o.appId}`,
      fix: `Repeat --app-id ${man.leanplum.appId}, or start a new run directory for the other app.`,
    };
  }
  // staleness first: it decides what to do (transform again), whatever else is missing
  if (man.parts.some((p) => partStage(p) === 'transformed') && clampIsStale(t, o.now)) return staleRefusal(t);
  const plan: LaunchPlan = { launch: [], failedWithoutRelaunch: [] };
  for (const part of man.parts) {
    const stage = partStage(part);
    if (stage === 'launched' || stage === 'finished') continue;
    if (!part.upload || !part.bucket || !part.object) {
      return { gate: 'not-uploaded', message: `${part.file} is not uploaded yet`, fix: 'Run `lp-backfill upload <dir> --to gs://...` first (or `run`).' };
    }
    if (stage === 'launching') {
      if (!o.relaunchUnknown.includes(part.launch!.startedAt)) return unknownLaunch(dir, part, man);
      plan.launch.push({ part, replaces: 'unknown' });
    } else if (stage === 'failed') {
      if (o.relaunch) plan.launch.push({ part, replaces: 'FAILED' });
      else plan.failedWithoutRelaunch.push(part);
    } else plan.launch.push({ part });
  }
  if (plan.launch.length > 0 && clampIsStale(t, o.now)) return staleRefusal(t);
  return plan;
}

export const isRefusal = (x: Refusal | LaunchPlan): x is Refusal => 'gate' in x;

/**
 * The key goes wherever the API URL points, so the URL always comes from the command line (default:
 * Leanplum's): one recorded in a manifest, perhaps received from someone else, is never followed;
 * it only has to agree.
 */
export function apiUrlGate(m: Manifest, apiUrl: string): Refusal | undefined {
  if (m.leanplum && m.leanplum.apiUrl !== apiUrl) {
    return {
      gate: 'api-url-changed',
      message: `this run was launched through ${m.leanplum.apiUrl}, but the key would now go to ${apiUrl}; a manifest's URL is never used on its own`,
      fix: `If ${m.leanplum.apiUrl} is yours, repeat it: --api-url ${m.leanplum.apiUrl}.`,
    };
  }
  return undefined;
}

/** Following jobs needs every part launched, through the API the run was launched with. */
export function mayWait(m: Manifest | undefined, dir: string, apiUrl: string): Refusal | undefined {
  if (m === undefined || m.transform === undefined) {
    return {
      gate: 'no-transform',
      message: `${dir} holds no run (manifest.json missing or incomplete)`,
      fix: 'Run `lp-backfill run` or `transform`, `upload`, `launch` first.',
    };
  }
  const url = apiUrlGate(m, apiUrl);
  if (url !== undefined) return url;
  // a part whose launch had no answer has no job to follow; the wait follows the others and says so
  const followed = (p: PartState) => ['launched', 'finished', 'failed', 'launching'].includes(partStage(p));
  const canary = m.parts.find((p) => p.canary === true);
  for (const part of m.parts) {
    // the others wait for the canary's verdict: only the canary's job is followed then
    if (canary !== undefined && part !== canary && followed(canary)) continue;
    if (!followed(part)) {
      return { gate: 'not-launched', message: `${part.file} has no launched job to follow`, fix: 'Run `lp-backfill launch <dir>` first (or `run`).' };
    }
  }
  return undefined;
}

/** The options that differ between a finished transform and the one asked for now, by flag name. */
/** Options added later, with the value a run recorded before them had in effect: such a run still resumes. */
const RECORDED_BEFORE: Readonly<Record<string, unknown>> = { encoding: 'utf-8', kind: 'events' };

export function changedOptions(then: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(then), ...Object.keys(now)]);
  const was = (k: string) => then[k] ?? RECORDED_BEFORE[k] ?? null;
  return [...keys].filter((k) => JSON.stringify(was(k)) !== JSON.stringify(now[k] ?? null)).sort();
}

/** How a recorded input is recognised again: a gs:// object by name and generation, a file by its sha256. */
export const inputIdentity = (i: { name: string; sha256: string; generation?: string }): string =>
  i.generation !== undefined ? `${i.name}#${i.generation}` : i.sha256;

/** `inputIds`: the inputs as they are now, each as inputIdentity gives it (undefined: standard input, not compared). */
export function mayResume(m: Manifest, dir: string, inputIds: readonly string[] | undefined, options: Record<string, unknown>): Refusal | undefined {
  const t = m.transform!;
  if (t.sampled !== null) {
    return {
      gate: 'sampled',
      message: `${dir} holds a sampled preview (only the first ${t.sampled} row(s) were read): this is a sampled preview; transform the whole input`,
      fix: `Nothing of it was uploaded: lp-backfill transform <input> --out ${dir} (without --sample), then run again — or run into a new --out.`,
    };
  }
  const then = t.inputs.map(inputIdentity);
  if (inputIds !== undefined && inputIds.join() !== then.join()) {
    const differ =
      inputIds.length !== then.length
        ? `${then.length} input(s) then, ${inputIds.length} now`
        : t.inputs
            .filter((_, i) => inputIds[i] !== then[i])
            .map((i) => i.name)
            .join(', ');
    return {
      gate: 'inputs-changed',
      message: `${dir} was made from other input(s): ${differ} (a file's sha256, or a gs:// object's generation, differs)`,
      fix:
        m.stateUrl === undefined
          ? 'Use a new --out directory for a new input.'
          : `This run's state lives in ${m.stateUrl}: a new input is a new backfill, with a new --state-to prefix (and --out).`,
    };
  }
  const thenOptions = { ...t.options };
  const asked = { ...options };
  // a default import time ("now") is not a choice: compare it only when given this time
  if (asked['import-at'] === undefined) delete thenOptions['import-at'];
  else if (thenOptions['import-at'] === undefined) thenOptions['import-at'] = t.importAt;
  const changed = changedOptions(thenOptions, asked);
  if (changed.length > 0) {
    const show = (o: Record<string, unknown>, k: string) => JSON.stringify(o[k] ?? null);
    const kindThen = String(thenOptions['kind'] ?? RECORDED_BEFORE['kind']);
    return {
      gate: 'options-changed',
      message: `${dir} was transformed with other options; these differ: ${changed.map((k) => `${k === 'users' ? 'the --kind users flags --map, --attr, --drop-attr, --rename-attr, --clear-empty' : `--${k}`} (then ${show(thenOptions, k)}, now ${show(asked, k)})`).join(', ')}`,
      // a run directory keeps its kind: its clean CSV is the rows of that kind (and its sink's action)
      fix: changed.includes('kind')
        ? `A run directory keeps its kind: resume it with --kind ${kindThen} (the kind it was made as), or give --kind ${String(asked['kind'])} a new --out directory.`
        : anyUploaded(m)
          ? 'This run is already uploaded: repeat the options it was made with, or start a new --out directory.'
          : `Nothing was uploaded yet: transform again into ${dir} with the new options (lp-backfill transform …), or repeat the old ones.`,
    };
  }
  return undefined;
}
