import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../errors.js';
import type { GcsOptions } from '../gcs/storage.js';
import type { Target } from '../gcs/url.js';
import { inputIdentities } from '../input/sources.js';
import type { LeanplumClient } from '../leanplum/client.js';
import type { MultiClient } from '../leanplum/multi-client.js';
import type { Manifest } from '../model/manifest.js';
import { sha256Stream } from '../files/file-hash.js';
import { hostname } from 'node:os';
import { adviceCommand, statusCommand } from '../run/advice.js';
import { identityParts, type ImportEntry, NO_LEDGER, placeOfLedgerUrl, unfinished, type WaysOn } from '../run/import-ledger.js';
import { ImportLedger, type LedgerPlace, type WaysOnFor } from '../run/import-ledger-gcs.js';
import { type RunLock, withRunLock } from '../run/lock.js';
import type { Log } from '../run/log.js';
import { loadManifest, saveManifest } from '../run/manifest.js';
import { RemoteState, claimLayout, parseStateObjectUrl, stateObject, statePrefixOf } from '../run/remote-state.js';
import { enforce, isRefusal, mayLaunch, mayResume, mayUpload, mayWait, refusalError, type Sink, sinkGate, unknownLaunch } from '../run/run-machine.js';
import { judgeSend, sendStage, type ApiSendSummary } from '../sinks/api/send-stage.js';
import { sendMirrorFor } from '../sinks/api/send-state.js';
import { maySend } from '../sinks/api/send-gates.js';
import { attachResults } from '../sinks/csv-job/attach-results.js';
import { adoptJob, launchStage } from '../sinks/csv-job/launch.js';
import { uploadStage } from '../sinks/csv-job/upload.js';
import { judgeResults, waitStage, type WaitOutcome } from '../sinks/csv-job/wait.js';
import { canaryFacts, canaryStopped, readServerRejects, recordCanary } from '../sinks/canary.js';
import { canaryGate, type JudgedCanary } from '../run/canary-gate.js';
import { effectiveOptions } from '../transform/transform-options.js';
import { ensureOutputs } from './transform-stage.js';
import { type TransformDeps, type TransformRunOptions, transformLocked } from './transform-run.js';

// The one orchestrator (issue 17): the stage order, the resume decision, the gates, the
// STATE_CONFLICT retry. Every command that changes a run directory comes through here with its
// typed options and its dependencies; the manifest is loaded once per command, under the lock, and
// passed along from stage to stage. cli/ parses, calls and renders what `deps.show` hands it.

export interface LeanplumTarget {
  /** from --app-id; else the app the run recorded */
  appId: string | undefined;
  apiUrl: string;
}

export interface LaunchFlags {
  yes: boolean;
  relaunch: boolean;
  relaunchUnknown: string[];
  adoptJobs: { part: string; jobId: string }[];
  publicWhileImporting: boolean;
  /** failed rows + "Past event detected" warnings the canary may come back with (issue 20) */
  canaryMaxFailures: number;
  /** --reimport: import again although the import ledger names another run of the same identity */
  reimport: boolean;
}

export interface WaitFlags {
  timeoutMs: number;
  timeoutText: string;
  pollMs: number;
  deleteAfter: boolean;
}

export interface SendFlags {
  concurrency: number;
  maxRps: number | undefined;
  resendUnknown: string[];
  skipUnknown: string[];
  /** failed rows + "Past event detected" warnings the canary's batches may come back with (issue 20) */
  canaryMaxFailures: number;
  /** --reimport: send again although the import ledger names another run of the same identity */
  reimport: boolean;
}

export type { Sink } from '../run/run-machine.js';

export interface PipelineDeps extends TransformDeps {
  /** the GCS client (made once, on first use) */
  storage: () => Storage;
  /** resumable upload settings */
  gcs: GcsOptions;
  /** the CSV import job's client (the Development key, read by the CLI) for an app */
  leanplum: (app: { appId: string; apiUrl: string }) => LeanplumClient;
  /** the JSON multi client (the Production key, read by the CLI) for an app */
  multi: (app: { appId: string; apiUrl: string }) => MultiClient;
  log: Log;
  sleep: (ms: number) => Promise<void>;
  /** asks before a launch; 'no-terminal' when there is none to ask on */
  confirm: (summary: string) => Promise<'yes' | 'no' | 'no-terminal'>;
  /** how printed advice names the send command (e.g. `lp-backfill send <dir> --app-id …`) */
  sendCommand: (dir: string, app: { appId: string; apiUrl: string }) => string;
  /** this very command as typed, with `extra` flags added, ready to copy (the --reimport advice) */
  again?: (extra: readonly string[]) => string;
}

export interface RunOptions extends TransformRunOptions {
  inputs: string[];
  sink: Sink;
  /** --to: the CSV job's bucket (not needed with --sink api) */
  target: Target | undefined;
  stateTo: Target | undefined;
  leanplum: LeanplumTarget;
  launch: LaunchFlags;
  wait: WaitFlags;
  send: SendFlags;
}

export interface RunResult {
  dir: string;
  /** where the state also lives (--state-to) */
  stateUrl: string | undefined;
  manifest: Manifest;
  /** the CSV job's results (sink csv-job) */
  wait?: WaitOutcome;
  /** the API sink's results (sink api) */
  sent?: ApiSendSummary;
}

interface App {
  appId: string;
  apiUrl: string;
}

/** The CSV job's connection: the app and its client, made before any stage (a bad --api-url stops here, nothing sent). */
interface Connected extends App {
  client: LeanplumClient;
}

/** The app: the flag, else the one the run recorded (so printed advice and `status` need not repeat it). Never the recorded URL. */
function appOf(lp: LeanplumTarget, m: Manifest | undefined): App {
  const appId = lp.appId ?? m?.leanplum?.appId;
  if (!appId) throw new BackfillError('CONFIG_INVALID', 'app-id: required', 'Give --app-id <your Leanplum app id>.');
  return { appId, apiUrl: lp.apiUrl };
}

function connect(lp: LeanplumTarget, m: Manifest | undefined, deps: PipelineDeps): Connected {
  const app = appOf(lp, m);
  return { ...app, client: deps.leanplum(app) };
}

/**
 * Every save of this run also goes, compare-and-swap, to its state in GCS: the one named by
 * --state-to (run), or the one a --state-to run recorded in the manifest (upload, launch, wait by
 * hand), so that no command can move the run on locally while GCS still shows the old state.
 * Returns the manifest to go on with: GCS's copy when it holds one (it is the truth).
 */
async function attachState(
  lock: RunLock,
  local: Manifest | undefined,
  ref: { bucket: string; name: string } | undefined,
  deps: Pick<PipelineDeps, 'storage' | 'log'>,
): Promise<Manifest | undefined> {
  const recorded = local?.stateUrl !== undefined ? parseStateObjectUrl(local.stateUrl) : undefined;
  const at = ref ?? recorded;
  if (at === undefined) return local;
  const remote = await RemoteState.open(deps.storage(), at, lock.dir, local);
  lock.mirror = remote;
  deps.log('state', { url: remote.url }, `state      ${remote.url} (compare-and-swap on every save)`);
  return remote.opened;
}

/** The lock, the manifest loaded once, the state in GCS attached: what every stage command starts from. */
async function withRun<T>(dir: string, command: string, deps: PipelineDeps, fn: (lock: RunLock, m: Manifest | undefined) => Promise<T>): Promise<T> {
  return withRunLock(dir, command, async (lock) => fn(lock, await attachState(lock, await loadManifest(dir), undefined, deps)));
}

async function upload(lock: RunLock, m: Manifest | undefined, target: Target, deps: PipelineDeps): Promise<Manifest> {
  enforce(mayUpload(m, lock.dir, target, deps.now()));
  return uploadStage(lock, m!, target, deps.storage(), deps.gcs, deps.log, deps.now);
}

/**
 * Asks the run machine once, so a refused launch (sampled, rejects, stale, unknown outcome) is
 * refused before the confirmation prompt; then launches what that plan holds, on the same
 * manifest. Returns the parts whose job FAILED and that were left alone.
 */
async function launchIfNeeded(lock: RunLock, m: Manifest | undefined, l: LaunchFlags, c: Connected, deps: PipelineDeps): Promise<string[]> {
  const app = { appId: c.appId, apiUrl: c.apiUrl };
  for (const { part, jobId } of l.adoptJobs) await adoptJob(lock, m, part, jobId, app, deps.now(), deps.log);
  let plan = mayLaunch(m, lock.dir, { now: deps.now(), relaunch: l.relaunch, relaunchUnknown: l.relaunchUnknown, apiUrl: app.apiUrl, appId: app.appId });
  if (isRefusal(plan)) throw refusalError(plan);
  const man = m!;
  const gate = canaryGate(man, l.canaryMaxFailures);
  if (gate.state === 'stopped' || gate.state === 'passed') {
    await recordCanary(lock, man, judgedOf(gate), deps.now, deps.log);
    if (gate.state === 'stopped') throw await csvCanaryStop(lock.dir, gate, app, lock.mirror?.url ?? man.stateUrl);
  } else if (gate.state === 'pending') {
    // the canary alone: the rest is launched only once its job FINISHED and it passed
    const only = gate.part;
    plan = { launch: plan.launch.filter((x) => x.part === only), failedWithoutRelaunch: plan.failedWithoutRelaunch.filter((p) => p === only) };
    if (plan.launch.length > 0)
      deps.log('canary', { part: only.file }, `canary     launching ${only.file} alone (${only.rows} rows); the other parts follow once it passes`);
    else if (plan.failedWithoutRelaunch.length === 0)
      deps.log('canary', { part: only.file }, `canary     ${only.file} is launched; the other parts wait for its verdict`);
  }
  if (plan.launch.length === 0) {
    await reattachLedger(lock, man, app, deps);
    if (man.parts.length === 0) deps.log('empty', {}, 'nothing    no rows to import (every row rejected, dropped or in another shard): no job launched');
    else if (plan.failedWithoutRelaunch.length === 0) deps.log('resume', {}, 'resume     jobs already launched: following them');
    return plan.failedWithoutRelaunch.map((p) => p.file);
  }
  if (!l.yes) await confirmLaunch(lock.dir, man, deps);
  // recorded before the first POST: a second run of the same inputs and options stops here at the latest
  await claimLedger(
    lock,
    man,
    ledgerOf(man, 'csv-job', app, ledgerPlace(man, 'csv-job', undefined, undefined), deps),
    { reimport: l.reimport, app, sink: 'csv-job' },
    deps,
  );
  const storage = l.publicWhileImporting ? deps.storage() : undefined;
  const o = { ...l, now: deps.now, ...app };
  return (await launchStage(lock, man, plan, c.client, storage, o, deps.log)).failedWithoutRelaunch;
}

async function confirmLaunch(dir: string, m: Manifest, deps: PipelineDeps): Promise<void> {
  const canary = m.parts.find((p) => p.canary === true);
  const first = canary === undefined ? '' : ` The canary (${canary.file}, ${canary.rows} rows) goes first, alone; the rest only if it passes.`;
  const summary = `About to launch ${m.parts.length} Leanplum import job(s) for ${m.parts.reduce((s, p) => s + p.rows, 0)} rows from ${m.transform!.inputs.map((i) => i.name).join(', ')}.${first}\nThe report: ${dir}/report.html. Imported events fire campaigns like live ones.`;
  const answer = await deps.confirm(summary);
  if (answer === 'no-terminal')
    throw new BackfillError('LAUNCH_REFUSED', 'not launching without confirmation: no terminal to ask on', 'Read the report, then run again with --yes.');
  if (answer === 'no') throw new BackfillError('LAUNCH_REFUSED', 'launch cancelled', 'Nothing was sent to Leanplum. Run again when ready.');
}

/** What the manifest and the stop message record of a judged canary. */
const judgedOf = (gate: JudgedCanary) => ({
  part: gate.part.file,
  verdict: gate.state,
  failedRows: gate.failedRows,
  pastEventWarnings: gate.pastEventWarnings,
  maxFailures: gate.maxFailures,
});

/** The CSV job's canary stopped the run: its failures joined to source lines, and the commands that go on. */
async function csvCanaryStop(dir: string, gate: JudgedCanary, app: App, stateUrl: string | undefined): Promise<BackfillError> {
  const { rows, total } = await readServerRejects(dir, gate.part.file, 10);
  const shown = rows.map((r) => ({ where: `${r.part} row ${r.row}`, sourceFile: r.sourceFile, sourceLine: r.sourceLine, message: `${r.kind}: ${r.message}` }));
  const need = gate.failedRows + gate.pastEventWarnings;
  const goOn = `\`${adviceCommand('launch', dir, app, ` --canary-max-failures ${need} --yes`)}\`, then \`${adviceCommand('wait', dir, app)}\``;
  return canaryStopped(dir, { ...judgedOf(gate), ...(await canaryFacts(dir)) }, { shown, total }, goOn, 'csv-job', stateUrl);
}

/**
 * The canary's job, followed alone to its end (its results into the report). A job that FAILED or
 * is still running at --timeout stops here, as any job would; its verdict is the next launch's.
 */
async function followCanary(lock: RunLock, m: Manifest, w: WaitFlags, c: Connected, deps: PipelineDeps, part: string): Promise<void> {
  const app = { appId: c.appId, apiUrl: c.apiUrl };
  enforce(mayWait(m, lock.dir, app.apiUrl));
  const out = await waitStage(
    lock,
    m,
    c.client,
    deps.storage(),
    { timeoutMs: w.timeoutMs, pollMs: w.pollMs, sleep: deps.sleep, deleteAfter: w.deleteAfter, apiUrl: app.apiUrl, now: deps.now, only: part },
    deps.log,
  );
  if (out.results.length > 0 && out.pending.length === 0) await attachResults(lock, out.results, out.manifest);
  if (out.pending.length > 0) {
    throw new BackfillError(
      'LEANPLUM_FAILED',
      `the canary's job (${part}) did not finish within --timeout ${w.timeoutText}; nothing else was launched`,
      `It goes on inside Leanplum. Run the same command again later: the canary is not launched again, and the rest follows once it passes.`,
    );
  }
  const unknown = out.manifest.parts.find((p) => p.launch?.status === 'launching');
  if (unknown !== undefined) enforce(unknownLaunch(lock.dir, unknown, out.manifest));
  const failed = out.results.filter((r) => r.state === 'FAILED');
  if (failed.length > 0) throw judgeResults(failed)!;
}

/** `launch` alone must not end quietly on a part whose job FAILED and that it left alone. */
function failedLeftAlone(files: readonly string[]): BackfillError {
  return new BackfillError(
    'JOB_FAILED',
    `the job(s) of ${files.join(', ')} ended FAILED and were not launched again`,
    'Fix the cause (most often: Leanplum cannot read the object), then launch with --relaunch: one new job per FAILED part.',
  );
}

/** Follows the jobs to their end, joins their results to the report, and judges them (exit 4 or 5). */
async function follow(lock: RunLock, m: Manifest | undefined, w: WaitFlags, c: Connected, deps: PipelineDeps): Promise<WaitOutcome> {
  const dir = lock.dir;
  const app = { appId: c.appId, apiUrl: c.apiUrl };
  enforce(mayWait(m, dir, app.apiUrl));
  await reattachLedger(lock, m, app, deps);
  const out = await waitStage(
    lock,
    m!,
    c.client,
    deps.storage(),
    { timeoutMs: w.timeoutMs, pollMs: w.pollMs, sleep: deps.sleep, deleteAfter: w.deleteAfter, apiUrl: app.apiUrl, now: deps.now },
    deps.log,
  );
  if (out.results.length > 0 && out.pending.length === 0) await attachResults(lock, out.results, out.manifest);
  deps.show({ stage: 'jobs', results: out.results });
  if (out.pending.length > 0) {
    throw new BackfillError(
      'LEANPLUM_FAILED',
      `the job(s) for ${out.pending.join(', ')} did not finish within --timeout ${w.timeoutText}`,
      `They go on inside Leanplum. Run \`${adviceCommand('wait', dir, app)}\` again later.`,
    );
  }
  // the other parts were followed and their results written; the unknown one still needs a decision
  const unknown = out.manifest.parts.find((p) => p.launch?.status === 'launching');
  if (unknown !== undefined) enforce(unknownLaunch(dir, unknown, out.manifest));
  deps.show({ stage: 'results', dir });
  const verdict = judgeResults(out.results);
  if (verdict) throw verdict;
  const waiting = out.manifest.parts.filter((p) => p.launch === undefined);
  if (waiting.length > 0)
    deps.log(
      'canary',
      { waiting: waiting.map((p) => p.file) },
      `canary     ${waiting.map((p) => p.file).join(', ')} not launched yet: they wait for the canary's verdict; \`${adviceCommand('launch', dir, app)}\` launches them once it passed`,
    );
  return out;
}

/**
 * The API sink's import ledger, recorded before the first call (ALREADY_IMPORTED when another run
 * recorded the same identity): kept under --to, else --state-to, else where the run recorded it;
 * without any, said once: only the run directory protects against a second send.
 */
export async function recordSend(
  lock: RunLock,
  m: Manifest,
  o: { to: Target | undefined; stateTo: Target | undefined; reimport: boolean; app: App },
  deps: LedgerDeps,
): Promise<void> {
  const refused = maySend(m, lock.dir, o.app);
  if (refused !== undefined) throw refused;
  const place = ledgerPlace(m, 'api', o.to, o.stateTo);
  if (place === undefined) deps.log('ledger', {}, NO_LEDGER);
  await claimLedger(lock, m, ledgerOf(m, 'api', o.app, place, deps), { reimport: o.reimport, app: o.app, sink: 'api' }, deps);
}

/** The API sink's send, on the manifest loaded by the caller; its verdict (exit 4 or 5) after the results are shown. */
async function send(
  lock: RunLock,
  m: Manifest | undefined,
  client: MultiClient,
  s: SendFlags,
  app: App,
  where: { to: Target | undefined; stateTo: Target | undefined },
  deps: PipelineDeps,
): Promise<ApiSendSummary> {
  if (m === undefined) {
    throw new BackfillError(
      'STAGE_REFUSED',
      `${lock.dir} holds no run (manifest.json missing)`,
      'Run `lp-backfill transform <input> --out <dir>` first (or `run … --sink api`).',
    );
  }
  await recordSend(lock, m, { ...where, reimport: s.reimport, app }, deps);
  // with --state-to the send ledger is mirrored beside the manifest (a retried task never resends an answered call)
  const mirror = lock.mirror === undefined ? undefined : sendMirrorFor(lock, deps.storage());
  const summary = await sendStage(
    lock,
    m,
    client,
    { ...app, ...s, now: deps.now, sleep: deps.sleep, command: deps.sendCommand(lock.dir, app), mirror },
    deps.log,
  );
  deps.show({ stage: 'sent', dir: lock.dir, summary });
  const verdict = judgeSend(summary);
  if (verdict !== undefined) throw verdict;
  return summary;
}

/**
 * Where a run's import ledger lives (docs/run-states-and-recovery.md, "The import ledger"): the
 * CSV job's bucket and prefix (the one its upload recorded, else --to); for the API sink, which
 * has no bucket, its --state-to prefix; else nowhere.
 */
function ledgerPlace(m: Manifest, sink: Sink, to: Target | undefined, stateTo: Target | undefined): LedgerPlace | undefined {
  if (sink === 'csv-job') {
    const t = m.target ?? to;
    return t === undefined ? undefined : { bucket: t.bucket, prefix: t.prefix };
  }
  const given = to ?? stateTo;
  if (given !== undefined) return { bucket: given.bucket, prefix: given.prefix };
  const recorded = m.importLedger === undefined ? undefined : placeOfLedgerUrl(m.importLedger.url);
  if (recorded !== undefined) return recorded;
  return m.stateUrl === undefined ? undefined : statePrefixOf(parseStateObjectUrl(m.stateUrl));
}

/** What the import ledger needs from the outside world (`send` by hand gives just these). */
export type LedgerDeps = Pick<PipelineDeps, 'storage' | 'log' | 'now' | 'sendCommand' | 'again'>;

/** The run's ledger record (by its identity), or undefined when the run has no place for one (or is a sampled preview, never imported). */
function ledgerOf(m: Manifest, sink: Sink, app: App, place: LedgerPlace | undefined, deps: LedgerDeps): ImportLedger | undefined {
  if (place === undefined || m.transform === undefined || m.transform.sampled != null) return undefined;
  const parts = { ...identityParts(m, app.appId, sink), inputNames: m.transform.inputs.map((i) => i.name) };
  return ImportLedger.at(deps.storage(), place, parts, deps.log);
}

/** What a refusal offers: finish the earlier run (when its directory is here and it has work left), or this command with --reimport. */
function waysOn(app: App, sink: Sink, deps: LedgerDeps): WaysOnFor {
  return async (e: ImportEntry): Promise<WaysOn> => {
    let dirHere = false;
    if (e.host === hostname()) {
      try {
        dirHere = (await loadManifest(e.dir))?.runId === e.runId;
      } catch {
        dirHere = false;
      }
    }
    const theirs = { appId: app.appId, apiUrl: e.apiUrl };
    const ways: WaysOn = { dirHere, reimport: deps.again?.(['--reimport']) ?? 'the same command with --reimport' };
    if (dirHere) ways.status = statusCommand(e.dir, e.apiUrl);
    else if (e.stateUrl !== undefined) {
      const at = statePrefixOf(parseStateObjectUrl(e.stateUrl));
      ways.status = statusCommand(`gs://${at.bucket}/${at.prefix}`, e.apiUrl);
    }
    if (dirHere && unfinished(e)) {
      const allLaunched = e.parts.every((p) => p.jobId !== undefined || p.stage === 'finished' || p.stage === 'failed');
      ways.finish = sink === 'api' ? deps.sendCommand(e.dir, theirs) : adviceCommand(allLaunched ? 'wait' : 'launch', e.dir, theirs);
    }
    return ways;
  };
}

/**
 * Records the run in its ledger before its first launch or send (refused, ALREADY_IMPORTED, when
 * another run recorded the same identity and --reimport is not given); a run that recorded itself
 * earlier attaches again, so that its entry follows the jobs to their end.
 */
async function claimLedger(
  lock: RunLock,
  m: Manifest,
  ledger: ImportLedger | undefined,
  o: { reimport: boolean; app: App; sink: Sink },
  deps: LedgerDeps,
): Promise<void> {
  if (ledger === undefined || lock.ledger !== undefined) return;
  await ledger.claim(lock, m, { reimport: o.reimport, apiUrl: o.app.apiUrl, now: deps.now() }, waysOn(o.app, o.sink, deps));
  if (m.importLedger?.url !== ledger.url) {
    m.importLedger = { url: ledger.url, identity: ledger.identity };
    await saveManifest(lock, m, deps.now());
  }
}

/**
 * A run that recorded itself follows its entry when resumed (wait by hand, run again). Its jobs are
 * followed whatever the record says: a record edited since (this run's entry gone, another run
 * there) is said, never a reason to stop following what is already in Leanplum.
 */
async function reattachLedger(lock: RunLock, m: Manifest | undefined, app: App, deps: PipelineDeps): Promise<void> {
  if (m?.importLedger === undefined || lock.ledger !== undefined || m.sink === 'api') return;
  try {
    await claimLedger(
      lock,
      m,
      ledgerOf(m, 'csv-job', app, ledgerPlace(m, 'csv-job', undefined, undefined), deps),
      { reimport: false, app, sink: 'csv-job' },
      deps,
    );
  } catch (e) {
    if (!(e instanceof BackfillError && (e.code === 'ALREADY_IMPORTED' || e.code === 'GCS_FAILED' || e.code === 'STAGE_REFUSED'))) throw e;
    deps.log(
      'ledger-warning',
      { url: m.importLedger.url, error: e.message },
      `warning    the import ledger ${m.importLedger.url} was not updated: ${e.message}`,
    );
  }
}

export async function uploadRun(o: { dir: string; target: Target }, deps: PipelineDeps): Promise<Manifest> {
  return withRun(o.dir, 'upload', deps, (lock, m) => upload(lock, m, o.target, deps));
}

export async function launchRun(o: { dir: string; leanplum: LeanplumTarget; launch: LaunchFlags }, deps: PipelineDeps): Promise<void> {
  await withRun(o.dir, 'launch', deps, async (lock, m) => {
    const failed = await launchIfNeeded(lock, m, o.launch, connect(o.leanplum, m, deps), deps);
    if (failed.length > 0) throw failedLeftAlone(failed);
  });
}

export async function waitRun(o: { dir: string; leanplum: LeanplumTarget; wait: WaitFlags }, deps: PipelineDeps): Promise<WaitOutcome> {
  return withRun(o.dir, 'wait', deps, (lock, m) => follow(lock, m, o.wait, connect(o.leanplum, m, deps), deps));
}

/**
 * `run`: transform → report → upload → launch → wait (or, with --sink api, transform → send),
 * resuming at the first unfinished stage. With --state-to, a task that loses a compare-and-swap on
 * the GCS state reads it again and decides again (up to three times).
 */
export async function runBackfill(o: RunOptions, deps: PipelineDeps): Promise<RunResult> {
  const dir = o.config.outDir;
  return withRunLock(
    dir,
    'run',
    async (lock) => {
      for (let attempt = 1; ; attempt++) {
        try {
          // decided again from what GCS holds now: the ledger is attached again by this attempt's claim
          delete lock.ledger;
          let m = await loadManifest(dir);
          // the client is made (and a bad --api-url refused) before anything is read or written
          const app = appOf(o.leanplum, m);
          const sink: SinkClient = o.sink === 'api' ? { multi: deps.multi(app), app } : { csv: { ...app, client: deps.leanplum(app) } };
          if (o.stateTo !== undefined) {
            await claimLayout(deps.storage(), o.stateTo.bucket, o.stateTo.prefix, o.config.shard?.count ?? null, deps.now());
            m = await attachState(lock, m, stateObject(o.stateTo.bucket, o.stateTo.prefix, o.config.shard), deps);
          }
          return await stages(o, lock, m, sink, deps);
        } catch (e) {
          if (!(e instanceof BackfillError && e.code === 'STATE_CONFLICT') || attempt >= 3) throw e;
          deps.log('conflict', { attempt }, `conflict   ${e.message}; reading the state again`);
        }
      }
    },
    { create: true },
  );
}

/** The gates that come before the ledger: a refused run is refused for its own reason, not as imported. */
function gatesAllow(m: Manifest, o: RunOptions, app: App, dir: string, deps: PipelineDeps): boolean {
  if (o.sink === 'api') return maySend(m, dir, app) === undefined;
  return mayUpload(m, dir, o.target!, deps.now()) === undefined;
}

type SinkClient = { csv: Connected } | { multi: MultiClient; app: App };

async function stages(o: RunOptions, lock: RunLock, loaded: Manifest | undefined, sink: SinkClient, deps: PipelineDeps): Promise<RunResult> {
  const dir = lock.dir;
  let m: Manifest;
  // one sink per run: resuming with the other would import the rows a second time
  if (loaded?.transform !== undefined) enforce(sinkGate(loaded, dir, o.sink));
  if (loaded?.transform && loaded.committing === undefined) {
    // files by sha256, gs:// objects by generation (input/sources.ts); standard input cannot be
    // read twice: it is read once here, only to compare its sha256
    const ids =
      deps.stdin !== undefined ? [await sha256Stream(deps.stdin.stream as AsyncIterable<Buffer>)] : await inputIdentities(o.inputs, async () => deps.storage());
    enforce(mayResume(loaded, dir, ids, effectiveOptions(o.config)));
    deps.log('resume', { runId: loaded.runId }, `resume     run ${loaded.runId}: transform already done, not repeated`);
    const io = { ...(deps.stdin ? { source: deps.stdin } : {}), storage: async () => deps.storage(), fastPath: deps.fastPath };
    if ((await ensureOutputs(lock, loaded, o.config, io)) === 'recreated') {
      deps.log(
        'recreated',
        { runId: loaded.runId },
        `recreated  the clean parts were missing here: made again from the inputs, byte for byte (sha256 checked)`,
      );
    }
    m = loaded;
  } else {
    m = (await transformLocked(lock, { manifest: loaded }, o, 'run', deps)).manifest;
  }
  if (m.sink === undefined && m.transform?.rejectRateExceeded === false) {
    m.sink = o.sink;
    await saveManifest(lock, m, deps.now());
  }
  // the import ledger, read only: a second run of the same inputs and options stops before any upload or call
  const app = 'multi' in sink ? sink.app : { appId: sink.csv.appId, apiUrl: sink.csv.apiUrl };
  if (gatesAllow(m, o, app, dir, deps)) {
    const ledger = ledgerOf(m, o.sink, app, ledgerPlace(m, o.sink, o.target, o.stateTo), deps);
    await ledger?.check(m, o.launch.reimport, waysOn(app, o.sink, deps));
  }
  const result: RunResult = { dir, stateUrl: undefined, manifest: m };
  if ('multi' in sink) result.sent = await send(lock, m, sink.multi, o.send, sink.app, { to: o.target, stateTo: o.stateTo }, deps);
  else {
    m = await upload(lock, m, o.target!, deps);
    const gate = canaryGate(m, o.launch.canaryMaxFailures);
    let rest = o.launch;
    if (gate.state === 'stopped' && !existsSync(join(dir, 'server-rejects.csv'))) {
      // stopped in another directory (a --state-to task retried with an empty --out): its job's
      // results are read again, so the stop shows the failed rows with their source lines
      try {
        await followCanary(lock, m, o.wait, sink.csv, deps, gate.part.file);
      } catch (e) {
        // results no longer there (or Leanplum not answering): the stop is said without its rows
        if (!(e instanceof BackfillError)) throw e;
        deps.log('canary', { error: e.message }, `warning    the canary job's results could not be read again: ${e.message}`);
      }
    }
    if (gate.state === 'pending') {
      // the canary alone, followed to its end; the next launch judges it (and stops the run, exit 5)
      await launchIfNeeded(lock, m, o.launch, sink.csv, deps);
      await followCanary(lock, m, o.wait, sink.csv, deps, gate.part.file);
      // one question per run: the confirmation said the canary goes first and the rest follows if it passes
      rest = { ...o.launch, yes: true };
    }
    await launchIfNeeded(lock, m, rest, sink.csv, deps);
    result.wait = await follow(lock, m, o.wait, sink.csv, deps);
  }
  result.stateUrl = lock.mirror?.url;
  return result;
}
