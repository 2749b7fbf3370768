import { readFile } from 'node:fs/promises';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../../errors.js';
import { makeStorage, type GcsOptions } from '../../gcs/storage.js';
import { LeanplumClient } from '../../leanplum/client.js';
import { scrubError } from '../../leanplum/redact.js';
import { inputIdentities } from '../../input/sources.js';
import { adoptJob, launchStage, type LaunchOptions } from '../../sinks/csv-job/launch.js';
import { withRunLock, type RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { loadManifest } from '../../run/manifest.js';
import { enforce, isRefusal, mayLaunch, mayResume, unknownLaunch } from '../../run/run-machine.js';
import { attachResults } from '../../sinks/csv-job/attach-results.js';
import { jobsToAsk, loadRuns, readRunStatus, totals, type RunStatus } from '../../pipeline/status.js';
import { ensureOutputs } from '../../pipeline/transform-stage.js';
import { RemoteState, claimLayout, stateObject } from '../../run/remote-state.js';
import { effectiveOptions } from '../../transform/transform-options.js';
import { uploadStage } from '../../sinks/csv-job/upload.js';
import { judgeResults, waitStage, type WaitOutcome } from '../../sinks/csv-job/wait.js';
import { sha256Stream } from '../../files/file-hash.js';
import { confirmOnTty } from '../confirm.js';
import { adviceCommand } from '../../run/advice.js';
import type {
  CommonOptions,
  GcsFlags,
  LaunchCommandOptions,
  LaunchFlags,
  LeanplumFlags,
  RunCommandOptions,
  StatusCommandOptions,
  UploadCommandOptions,
  WaitCommandOptions,
  WaitFlags,
} from '../command-options.js';
import { logEvent, stdinSource } from '../context.js';
import { fastPathFromEnv, transformLocked } from './transform.js';

function gcsOptions(g: GcsFlags, env: NodeJS.ProcessEnv = process.env): GcsOptions {
  return {
    apiEndpoint: env['STORAGE_EMULATOR_HOST'] || undefined,
    projectId: env['GOOGLE_CLOUD_PROJECT'] || undefined,
    chunkSize: g.chunkSize,
  };
}

async function devKey(keyFile: string | undefined): Promise<string> {
  if (keyFile !== undefined) {
    try {
      const key = (await readFile(keyFile, 'utf8')).trim();
      if (key) return key;
    } catch (e) {
      throw new BackfillError('CONFIG_INVALID', `client-key-file: cannot read "${keyFile}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    throw new BackfillError('CONFIG_INVALID', `client-key-file: "${keyFile}" is empty`);
  }
  const env = process.env['LEANPLUM_DEV_KEY']?.trim();
  if (env) return env;
  throw new BackfillError(
    'CONFIG_INVALID',
    "no Leanplum key: CSV imports need the app's Development key",
    'Set LEANPLUM_DEV_KEY (or pass --client-key-file <path>). Keys are never accepted as flag values, so they stay out of shell history and process lists.',
  );
}

/**
 * The app id: the flag, else the one the run recorded at its launch (so that printed advice and
 * `status` need not repeat it). Never the recorded API URL: the stages only compare it.
 */
async function client(lp: LeanplumFlags, recordedAppId: string | undefined, log: Log): Promise<Connected> {
  const appId = lp.appId ?? recordedAppId;
  if (!appId) throw new BackfillError('CONFIG_INVALID', 'app-id: required', 'Give --app-id <your Leanplum app id>.');
  const key = await devKey(lp.keyFile);
  const c = new LeanplumClient({
    apiUrl: lp.apiUrl,
    appId,
    clientKey: key,
    onRetry: (what, attempt, delay, reason) =>
      log(
        'retry',
        { what, attempt, delayMs: delay, reason },
        `retry      ${what} attempt ${attempt} failed (${reason}); next in ${(delay / 1000).toFixed(1)}s`,
      ),
  });
  return { client: c, appId, apiUrl: lp.apiUrl, key };
}

const logger =
  (o: CommonOptions): Log =>
  (event, fields, text) =>
    logEvent(o, event, fields, text);

/** Wraps a command so that no error can carry the key out, whatever path it took. */
export async function scrubbed<T>(key: () => string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    scrubError(e, key());
    throw e;
  }
}

interface Connected {
  client: LeanplumClient;
  appId: string;
  apiUrl: string;
  key: string;
}

/** Every command that talks to Leanplum: the key is read once and scrubbed from any error. */
async function withLeanplumClient(
  o: CommonOptions,
  lp: LeanplumFlags,
  recordedAppId: string | undefined,
  fn: (c: Connected) => Promise<unknown>,
): Promise<void> {
  let key: string | undefined;
  await scrubbed(
    () => key,
    async () => {
      const c = await client(lp, recordedAppId, logger(o));
      key = c.key;
      await fn(c);
    },
  );
}

/** The app id a run directory recorded at its launch, if any (read without the lock: only a default). */
const recordedAppId = async (dir: string) => (await loadManifest(dir).catch(() => undefined))?.leanplum?.appId;

export async function uploadCommand(o: UploadCommandOptions): Promise<void> {
  const g = gcsOptions(o.gcs);
  const storage = makeStorage(g);
  await withRunLock(o.dir, 'upload', async (lock) => {
    await attachState(lock, storage, undefined, logger(o));
    await uploadStage(lock, o.target, storage, g, logger(o));
  });
}

async function confirmLaunch(yes: boolean, dir: string): Promise<void> {
  if (yes) return;
  const m = (await loadManifest(dir))!;
  const summary = `About to launch ${m.parts.length} Leanplum import job(s) for ${m.parts.reduce((s, p) => s + p.rows, 0)} rows from ${m.transform!.inputs.map((i) => i.name).join(', ')}.\nThe report: ${dir}/report.html. Imported events fire campaigns like live ones.`;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new BackfillError('LAUNCH_REFUSED', 'not launching without confirmation: no terminal to ask on', 'Read the report, then run again with --yes.');
  }
  process.stderr.write(summary + '\n');
  if (!(await confirmOnTty('Launch now?')))
    throw new BackfillError('LAUNCH_REFUSED', 'launch cancelled', 'Nothing was sent to Leanplum. Run again when ready.');
}

const launchOptions = (l: LaunchFlags, c: Connected): LaunchOptions => ({
  relaunch: l.relaunch,
  relaunchUnknown: l.relaunchUnknown,
  publicWhileImporting: l.publicWhileImporting,
  now: () => new Date(),
  appId: c.appId,
  apiUrl: c.apiUrl,
});

/**
 * Asks the state machine first, so a refused launch (sampled, rejects, stale, unknown outcome)
 * is refused before the confirmation prompt; then launches what the plan holds.
 */
async function launchIfNeeded(l: LaunchFlags, gcs: GcsFlags, lock: RunLock, c: Connected, log: Log): Promise<string[]> {
  for (const { part, jobId } of l.adoptJobs) await adoptJob(lock, part, jobId, { appId: c.appId, apiUrl: c.apiUrl }, new Date(), log);
  const o = launchOptions(l, c);
  const plan = mayLaunch(await loadManifest(lock.dir), lock.dir, {
    now: o.now(),
    relaunch: o.relaunch,
    relaunchUnknown: o.relaunchUnknown,
    apiUrl: o.apiUrl,
    appId: o.appId,
  });
  if (isRefusal(plan)) enforce(plan);
  else if (plan.launch.length === 0) {
    const m = await loadManifest(lock.dir);
    if (m?.parts.length === 0) log('empty', {}, 'nothing    no rows to import (every row rejected, dropped or in another shard): no job launched');
    else if (plan.failedWithoutRelaunch.length === 0) log('resume', {}, 'resume     jobs already launched: following them');
    return plan.failedWithoutRelaunch.map((p) => p.file);
  }
  await confirmLaunch(l.yes, lock.dir);
  const storage = o.publicWhileImporting ? makeStorage(gcsOptions(gcs)) : undefined;
  return (await launchStage(lock, c.client, storage, o, log)).failedWithoutRelaunch;
}

/** `launch` alone must not end quietly on a part whose job FAILED and that it left alone. */
function failedLeftAlone(files: readonly string[]): BackfillError {
  return new BackfillError(
    'JOB_FAILED',
    `the job(s) of ${files.join(', ')} ended FAILED and were not launched again`,
    'Fix the cause (most often: Leanplum cannot read the object), then launch with --relaunch: one new job per FAILED part.',
  );
}

export async function launchCommand(o: LaunchCommandOptions): Promise<void> {
  await withLeanplumClient(o, o.leanplum, await recordedAppId(o.dir), (c) =>
    withRunLock(o.dir, 'launch', async (lock) => {
      await attachState(lock, makeStorage(gcsOptions(o.gcs)), undefined, logger(o));
      const failed = await launchIfNeeded(o.launch, o.gcs, lock, c, logger(o));
      if (failed.length > 0) throw failedLeftAlone(failed);
    }),
  );
}

async function follow(o: CommonOptions & { wait: WaitFlags; gcs: GcsFlags }, lock: RunLock, c: Connected): Promise<WaitOutcome> {
  const dir = lock.dir;
  const log = logger(o);
  const out = await waitStage(
    lock,
    c.client,
    makeStorage(gcsOptions(o.gcs)),
    {
      timeoutMs: o.wait.timeoutMs,
      pollMs: o.wait.pollMs,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      deleteAfter: o.wait.deleteAfter,
      apiUrl: c.apiUrl,
    },
    log,
  );
  if (out.results.length > 0 && out.pending.length === 0) await attachResults(lock, out.results, out.manifest);
  for (const r of out.results) {
    process.stdout.write(
      `job        ${r.part} ${r.jobId}: ${r.state}, ${r.successes} succeeded, ${r.failures} failed, ${r.warnings} warnings${r.error ? ` — ${r.error}` : ''}\n`,
    );
    for (const [msg, count] of Object.entries(r.byMessage)) process.stdout.write(`           ${count} × ${msg}\n`);
    for (const old of r.replaced ?? [])
      process.stdout.write(
        old.jobId === null
          ? '           replaced an earlier launch whose answer was lost (no job id)\n'
          : `           replaced an earlier job ${old.jobId}: ${old.outcome}${old.error ? ` — ${old.error}` : ''}\n`,
      );
  }
  if (out.pending.length > 0) {
    throw new BackfillError(
      'LEANPLUM_FAILED',
      `the job(s) for ${out.pending.join(', ')} did not finish within --timeout ${o.wait.timeoutText}`,
      `They go on inside Leanplum. Run \`${adviceCommand('wait', dir, { appId: c.appId, apiUrl: c.apiUrl })}\` again later.`,
    );
  }
  // the other parts were followed and their results written; the unknown one still needs a decision
  const unknown = out.manifest.parts.find((p) => p.launch?.status === 'launching');
  if (unknown !== undefined) enforce(unknownLaunch(dir, unknown, out.manifest));
  process.stdout.write(`results    ${dir}/results/summary.json, ${dir}/server-rejects.csv, report ${dir}/report.html\n`);
  const verdict = judgeResults(out.results);
  if (verdict) throw verdict;
  return out;
}

export async function waitCommand(o: WaitCommandOptions): Promise<void> {
  await withLeanplumClient(o, o.leanplum, await recordedAppId(o.dir), (c) =>
    withRunLock(o.dir, 'wait', async (lock) => {
      await attachState(lock, makeStorage(gcsOptions(o.gcs)), undefined, logger(o));
      await follow(o, lock, c);
    }),
  );
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Read-only: no lock, no writes. One or many runs (shards): directories or --state-to URLs; asks
 * Leanplum only about jobs not known to have ended, and needs the key only then.
 */
export async function statusCommand(o: StatusCommandOptions): Promise<void> {
  const storage = () => makeStorage(gcsOptions(o.gcs));
  const { runs: found, missing, warnings } = await loadRuns(o.wheres, storage);
  const show = async (c: Connected | undefined) => {
    const runs: RunStatus[] = [];
    for (const r of found)
      runs.push(await readRunStatus(r.where, r.manifest, c && jobsToAsk(r.manifest).length > 0 ? { client: c.client, apiUrl: c.apiUrl } : undefined));
    const n = (x: number) => x.toLocaleString('en-US');
    for (const r of runs) {
      if (r.manifest.committing !== undefined)
        process.stdout.write(
          `warning    ${r.where}: a transform stopped while moving its outputs in (${r.manifest.committing.startedAt}); transform again before anything else\n`,
        );
      for (const p of r.manifest.parts)
        if (p.public && !p.public.until)
          process.stdout.write(`warning    ${r.where}: ${p.object ?? p.file} is publicly readable since ${p.public.since} (--public-while-importing)\n`);
      const shard = r.manifest.transform?.options['shard'];
      process.stdout.write(
        `run        ${r.where}: ${r.manifest.runId}${typeof shard === 'string' ? ` (shard ${shard})` : ''}${r.manifest.transform?.sampled != null ? ` (sampled preview: ${r.manifest.transform.sampled} rows)` : ''}\n`,
      );
      for (const p of r.parts) {
        if (p.jobId !== undefined)
          process.stdout.write(`job        ${p.file} ${p.jobId}: ${p.state ?? 'unknown'}${p.replaced > 0 ? ` (${p.replaced} earlier job(s) replaced)` : ''}\n`);
        else process.stdout.write(`part       ${p.file}: ${p.stage}, ${n(p.rows)} rows\n`);
      }
    }
    for (const w of warnings) process.stdout.write(`warning    ${w}\n`);
    for (const m of missing) process.stdout.write(`missing    ${m}: no state saved yet (the task has not started, or gave up): its users are not imported\n`);
    if (runs.length > 1 || missing.length > 0) {
      const t = totals(runs, missing);
      process.stdout.write(
        `total      ${plural(t.runs, 'run')}, ${plural(t.parts, 'part')}, ${plural(t.rows, 'row')}; ${Object.entries(t.byState)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}\n`,
      );
      process.stdout.write(`           not finished: ${t.notFinished.length === 0 ? 'none' : t.notFinished.join(', ')}\n`);
      if (t.billableLookups !== null) process.stdout.write(`           billable lookups (as written): ${n(t.billableLookups)}\n`);
    }
  };
  const asking = found.filter((r) => jobsToAsk(r.manifest).length > 0);
  // the app the runs recorded at their launch, when they agree: status need not ask for it
  const apps = [...new Set(asking.map((r) => r.manifest.leanplum?.appId).filter((x) => x !== undefined))];
  if (asking.length > 0) await withLeanplumClient(o, o.leanplum, apps.length === 1 ? apps[0] : undefined, show);
  else await show(undefined);
}

/**
 * Every save of this run also goes, compare-and-swap, to its state in GCS: the one named by
 * --state-to (run), or the one a --state-to run recorded in the manifest (upload, launch, wait by
 * hand), so that no command can move the run on locally while GCS still shows the old state.
 */
async function attachState(lock: RunLock, storage: Storage, ref: { bucket: string; name: string } | undefined, log: Log): Promise<void> {
  const local = await loadManifest(lock.dir);
  const recorded = local?.stateUrl !== undefined ? parseStateObjectUrl(local.stateUrl) : undefined;
  const at = ref ?? recorded;
  if (at === undefined) return;
  const remote = await RemoteState.open(storage, at, lock.dir, local);
  lock.mirror = remote;
  log('state', { url: remote.url }, `state      ${remote.url} (compare-and-swap on every save)`);
}

function parseStateObjectUrl(url: string): { bucket: string; name: string } {
  const m = /^gs:\/\/([^/]+)\/(.+\/)?manifest\.json$/.exec(url);
  if (!m)
    throw new BackfillError(
      'STAGE_REFUSED',
      `the manifest names its state as "${url}", which is not a gs://…/manifest.json URL`,
      'The manifest was edited or damaged; restore it.',
    );
  return { bucket: m[1]!, name: `${m[2] ?? ''}manifest.json` };
}

/** transform → report → upload → launch → wait, resuming at the first unfinished stage. */
export async function runCommand(o: RunCommandOptions): Promise<void> {
  const dir = o.config.outDir;
  const log = logger(o);
  const cfg = o.config;
  const g = gcsOptions(o.gcs);
  const storage = makeStorage(g);
  await withLeanplumClient(o, o.leanplum, await recordedAppId(dir), (c) =>
    withRunLock(
      dir,
      'run',
      async (lock) => {
        // a task that loses a compare-and-swap on the GCS state reads it again and decides again
        for (let attempt = 1; ; attempt++) {
          try {
            if (o.stateTo !== undefined) {
              await claimLayout(storage, o.stateTo.bucket, o.stateTo.prefix, cfg.shard?.count ?? null, new Date());
              await attachState(lock, storage, stateObject(o.stateTo.bucket, o.stateTo.prefix, cfg.shard), log);
            }
            await runStages(o, lock, c, storage, g, log);
            return;
          } catch (e) {
            if (!(e instanceof BackfillError && e.code === 'STATE_CONFLICT') || attempt >= 3) throw e;
            log('conflict', { attempt }, `conflict   ${e.message}; reading the state again`);
          }
        }
      },
      { create: true },
    ),
  );
}

async function runStages(o: RunCommandOptions, lock: RunLock, c: Connected, storage: Storage, g: GcsOptions, log: Log): Promise<void> {
  const dir = lock.dir;
  const cfg = o.config;
  const input = o.inputs;
  const existing = await loadManifest(dir);
  if (existing?.transform && existing.committing === undefined) {
    // files by sha256, gs:// objects by generation (input/sources.ts)
    // standard input cannot be read twice: it is read once here, only to compare its sha256
    const ids = input.includes('-') ? [await sha256Stream(process.stdin as AsyncIterable<Buffer>)] : await inputIdentities(input, async () => storage);
    enforce(mayResume(existing, dir, ids, effectiveOptions(cfg)));
    log('resume', { runId: existing.runId }, `resume     run ${existing.runId}: transform already done, not repeated`);
    const source = stdinSource(input);
    if ((await ensureOutputs(lock, cfg, { ...(source ? { source } : {}), storage: async () => storage, fastPath: fastPathFromEnv() })) === 'recreated') {
      log('recreated', { runId: existing.runId }, `recreated  the clean parts were missing here: made again from the inputs, byte for byte (sha256 checked)`);
    }
  } else {
    await transformLocked(o, 'run', lock);
  }
  await uploadStage(lock, o.target, storage, g, log);
  await launchIfNeeded(o.launch, o.gcs, lock, c, log);
  await follow(o, lock, c);
  process.stdout.write(`manifest   ${dir}/manifest.json${lock.mirror ? ` (and ${lock.mirror.url})` : ''}\n`);
}
