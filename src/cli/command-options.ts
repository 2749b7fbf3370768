import { parseSize } from '../config.js';
import { BackfillError } from '../errors.js';
import { resolve } from 'node:path';
import { parseGsUrl, type Target } from '../gcs/url.js';
import { checkApiUrl } from '../leanplum/api-url.js';
import { DEFAULT_API_URL } from '../leanplum/contract.js';
import { buildTransformConfig, type TransformConfig } from '../transform/transform-config.js';
import { parseDuration } from '../time/duration.js';
import { WAIT_DEFAULTS } from './cloud-options.js';
import { inputsOf, type Args } from './context.js';
import { FlagReader, type Repeat } from './flags.js';
import type { LaunchFlags, SendFlags, Sink, WaitFlags } from '../pipeline/run.js';
import { rawTransformOptions } from './options.js';

// Every command's flags → one typed options object, checked all at once before the lock, before
// any file is written and before anything is sent (exit 2 means nothing happened). The commands
// take these objects; only this layer looks at yargs' arguments.

export interface CommonOptions {
  quiet: boolean;
  logFormat: 'text' | 'json';
  /** single-value flags given more than once: the last value was used (said in the summary) */
  repeats: Repeat[];
}

export interface TransformCommandOptions extends CommonOptions {
  inputs: string[];
  config: TransformConfig;
  report: boolean;
}

export interface GcsFlags {
  chunkSize: number | undefined;
}

export interface LeanplumFlags {
  /** from --app-id; else the one the run directory recorded (status, wait, launch on an existing run) */
  appId: string | undefined;
  apiUrl: string;
  keyFile: string | undefined;
}

export type { LaunchFlags, WaitFlags } from '../pipeline/run.js';

export interface UploadCommandOptions extends CommonOptions {
  dir: string;
  target: Target;
  gcs: GcsFlags;
}

export interface LaunchCommandOptions extends CommonOptions {
  dir: string;
  leanplum: LeanplumFlags;
  launch: LaunchFlags;
  gcs: GcsFlags;
}

export interface WaitCommandOptions extends CommonOptions {
  dir: string;
  leanplum: LeanplumFlags;
  wait: WaitFlags;
  gcs: GcsFlags;
}

export interface StatusCommandOptions extends CommonOptions {
  wheres: string[];
  leanplum: LeanplumFlags;
  gcs: GcsFlags;
}

export interface RunCommandOptions extends TransformCommandOptions {
  /** where the rows go: the CSV import job (default) or Leanplum's JSON multi API */
  sink: Sink;
  /** --to: the CSV job's bucket (none with --sink api) */
  target: Target | undefined;
  stateTo: Target | undefined;
  leanplum: LeanplumFlags;
  launch: LaunchFlags;
  wait: WaitFlags;
  gcs: GcsFlags;
  /** the API sink's pace (--sink api) */
  send: SendFlags;
}

function common(r: FlagReader): CommonOptions {
  const logFormat = r.string('log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') r.problem(`log-format: expected text or json, found ${JSON.stringify(logFormat)}`);
  return { quiet: r.bool('quiet'), logFormat: logFormat === 'json' ? 'json' : 'text', repeats: r.repeats };
}

/** A gs:// URL flag, its problem collected rather than thrown. */
function gsFlag(r: FlagReader, flag: string, text: string): Target | undefined {
  try {
    return parseGsUrl(text);
  } catch (e) {
    r.problem((e as Error).message.replace(/^to:/, `${flag}:`));
    return undefined;
  }
}

function target(r: FlagReader, required: boolean): Target | undefined {
  const to = r.string('to');
  const bucket = r.string('bucket');
  const prefix = r.string('prefix') ?? '';
  if (to !== undefined && bucket !== undefined) r.problem('to: give --to gs://<bucket>/<prefix> or --bucket with --prefix, not both');
  // --prefix belongs to --bucket: with --to it would be ignored, and the objects land elsewhere
  if (to !== undefined && r.given('prefix')) r.problem('prefix: only read with --bucket; with --to, put the prefix in the URL (gs://<bucket>/<prefix>)');
  if (to !== undefined) return gsFlag(r, 'to', to);
  if (bucket !== undefined) return gsFlag(r, 'bucket', `gs://${bucket}/${prefix}`);
  if (required && !r.given('to') && !r.given('bucket')) r.problem('to: a destination is required: give --to gs://<bucket>/<prefix> (or --bucket and --prefix)');
  return undefined;
}

function gcs(r: FlagReader): GcsFlags {
  const text = r.string('chunk-size');
  if (text === undefined) return { chunkSize: undefined };
  const n = parseSize(text);
  if (n === undefined || n <= 0 || n % (256 * 1024) !== 0) {
    r.problem(`chunk-size: expected a multiple of 256KiB (e.g. 8MB, or 262144 bytes), found ${JSON.stringify(text)}`);
    return { chunkSize: undefined };
  }
  return { chunkSize: n };
}

function leanplum(r: FlagReader): LeanplumFlags {
  const appId = r.string('app-id');
  if (appId !== undefined && appId.trim() === '') r.problem('app-id: expected your Leanplum app id, found an empty value');
  const apiUrl = r.string('api-url') ?? DEFAULT_API_URL;
  // where the key goes is settled before anything is read, written or sent
  try {
    checkApiUrl(apiUrl);
  } catch (e) {
    r.problem(`${(e as Error).message}${e instanceof BackfillError && e.hint ? ` (${e.hint})` : ''}`);
  }
  return { appId: appId?.trim() || undefined, apiUrl, keyFile: r.string('client-key-file') };
}

function launch(r: FlagReader): LaunchFlags {
  const adoptJobs: { part: string; jobId: string }[] = [];
  for (const pair of r.list('adopt-job')) {
    const eq = pair.lastIndexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      r.problem(`adopt-job: expected <part>=<jobId> (e.g. --adopt-job clean.csv=5123456789), found ${JSON.stringify(pair)}`);
    else adoptJobs.push({ part: pair.slice(0, eq), jobId: pair.slice(eq + 1) });
  }
  return {
    yes: r.bool('yes'),
    relaunch: r.bool('relaunch'),
    relaunchUnknown: r.list('relaunch-unknown'),
    adoptJobs,
    publicWhileImporting: r.bool('public-while-importing'),
    canaryMaxFailures: canaryMaxFailures(r),
    reimport: r.bool('reimport'),
  };
}

/** --canary-max-failures: failed rows + "Past event detected" warnings the canary may come back with (0: none). */
export function canaryMaxFailures(r: FlagReader): number {
  return r.int('canary-max-failures', 0) ?? 0;
}

function wait(r: FlagReader): WaitFlags {
  const timeout = r.duration('timeout', WAIT_DEFAULTS.timeout, parseDuration);
  return {
    timeoutMs: timeout.ms,
    timeoutText: timeout.text,
    pollMs: r.duration('poll-interval', WAIT_DEFAULTS.pollInterval, parseDuration).ms,
    deleteAfter: r.bool('delete-after'),
  };
}

/**
 * The transform config with the flag problems: both lists reported together, so that a user
 * fixes everything in one go.
 */
function transformConfig(r: FlagReader, a: Args, env: NodeJS.ProcessEnv, now: Date): { inputs: string[]; config: TransformConfig } {
  const inputs = inputsOf(a);
  // an export named twice would be read twice: every event imported twice (e.g. `… "$@"` with the input in "$@")
  const seen = new Map<string, number>();
  inputs.forEach((x, i) => {
    const key = x.startsWith('gs://') || x === '-' ? x : resolve(x);
    const first = seen.get(key);
    if (first !== undefined) r.problem(`input: ${JSON.stringify(x)} is given twice (inputs ${first + 1} and ${i + 1}); each export may be read only once`);
    else seen.set(key, i);
  });
  let raw: ReturnType<typeof rawTransformOptions> | undefined;
  try {
    raw = rawTransformOptions(r, inputs, env);
  } catch (e) {
    if (!(e instanceof BackfillError && e.code === 'CONFIG_INVALID')) throw e;
    r.problem(e.message);
  }
  let config: TransformConfig | undefined;
  if (raw !== undefined) {
    try {
      config = buildTransformConfig(raw, now);
    } catch (e) {
      if (!(e instanceof BackfillError && e.code === 'CONFIG_INVALID')) throw e;
      r.problem(e.message);
    }
  }
  r.check();
  return { inputs, config: config! };
}

export function transformCommandOptions(a: Args, env: NodeJS.ProcessEnv, now: Date, mode: 'transform' | 'preview'): TransformCommandOptions {
  const r = new FlagReader(a);
  const c = common(r);
  const report = mode === 'preview' || r.bool('report');
  return { ...c, ...transformConfig(r, a, env, now), report };
}

/**
 * What `run` can only know from the machine it starts on: whether it can ask for confirmation, and
 * whether --out already holds a run (the CLI layer reads both; they are checked before any work).
 */
export interface RunContext {
  /** stdin and stderr are a terminal: the launch can be confirmed there */
  tty: boolean;
  /** --out already holds a run's manifest */
  existingRun: boolean;
}

export function runCommandOptions(a: Args, env: NodeJS.ProcessEnv, now: Date, context: RunContext = { tty: true, existingRun: true }): RunCommandOptions {
  const r = new FlagReader(a);
  const c = common(r);
  const sink = sinkFlag(r);
  const tgt = target(r, sink === 'csv-job');
  // with --sink api nothing is uploaded: --to only says where the import ledger is kept (issue 20)
  if (sink === 'api' && tgt !== undefined && r.given('chunk-size')) r.problem('chunk-size: --sink api uploads nothing (its --to only keeps the import ledger)');
  const send = { ...sendPace(r), resendUnknown: [], skipUnknown: [], canaryMaxFailures: 0, reimport: false };
  const stateToText = r.string('state-to');
  const stateTo = stateToText === undefined ? undefined : gsFlag(r, 'state-to', stateToText);
  const lp = leanplum(r);
  const l = launch(r);
  send.canaryMaxFailures = l.canaryMaxFailures;
  send.reimport = l.reimport;
  const w = wait(r);
  const g = gcs(r);
  if (sink === 'csv-job' && !l.yes && !context.tty) r.problem('yes: no terminal to confirm the launch on; read the preview report, then run with --yes');
  if (l.adoptJobs.length > 0 && !context.existingRun && stateTo === undefined)
    r.problem(
      'adopt-job: --out holds no run yet, so it has no launch to give a job id to; --adopt-job is for a run whose launch answer was lost (the LAUNCH_UNKNOWN message names it)',
    );
  const t = transformConfig(r, a, env, now);
  if (sink === 'csv-job' && t.config.users?.clearEmpty === true)
    throw new BackfillError(
      'CONFIG_INVALID',
      "clear-empty: --kind users --clear-empty sends clears, which only the API sink can (as null); Leanplum's CSV import job documents no meaning for an empty cell, so it cannot clear an attribute",
      'Add --sink api (and leave out --to), or leave out --clear-empty for the CSV job. Nothing was done.',
    );
  return { ...c, ...t, report: true, sink, target: tgt, stateTo, leanplum: lp, launch: l, wait: w, gcs: g, send };
}

/** --sink: one of two choices, csv-job when not given. */
function sinkFlag(r: FlagReader): Sink {
  const sink = r.string('sink') ?? 'csv-job';
  if (sink === 'csv-job' || sink === 'api') return sink;
  r.problem(`sink: expected csv-job or api, found ${JSON.stringify(sink)}`);
  return 'csv-job';
}

/** The API sink's pace, for `send` and `run --sink api`. */
export function sendPace(r: FlagReader): { concurrency: number; maxRps: number | undefined } {
  const concurrency = r.int('concurrency', 1) ?? 4;
  if (concurrency > 64) r.problem(`concurrency: at most 64 calls in flight, found ${concurrency}`);
  const rpsText = r.string('max-rps');
  const maxRps = rpsText === undefined ? undefined : Number(rpsText);
  if (rpsText !== undefined && !(Number.isFinite(maxRps) && maxRps! > 0))
    r.problem(`max-rps: expected a number of requests per second above 0, found ${JSON.stringify(rpsText)}`);
  return { concurrency, maxRps };
}

const dirOf = (a: Args) => String(a['dir'] ?? '');

export function uploadCommandOptions(a: Args): UploadCommandOptions {
  const r = new FlagReader(a);
  const c = common(r);
  const tgt = target(r, true);
  const g = gcs(r);
  r.check();
  return { ...c, dir: dirOf(a), target: tgt!, gcs: g };
}

export function launchCommandOptions(a: Args): LaunchCommandOptions {
  const r = new FlagReader(a);
  const c = common(r);
  const o = { ...c, dir: dirOf(a), leanplum: leanplum(r), launch: launch(r), gcs: gcs(r) };
  r.check();
  return o;
}

export function waitCommandOptions(a: Args): WaitCommandOptions {
  const r = new FlagReader(a);
  const c = common(r);
  const o = { ...c, dir: dirOf(a), leanplum: leanplum(r), wait: wait(r), gcs: gcs(r) };
  r.check();
  return o;
}

export function statusCommandOptions(a: Args): StatusCommandOptions {
  const r = new FlagReader(a);
  const c = common(r);
  const o = { ...c, wheres: r.list('dir'), leanplum: leanplum(r), gcs: gcs(r) };
  r.check();
  return o;
}
