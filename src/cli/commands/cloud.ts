import { readFile } from 'node:fs/promises';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../../errors.js';
import { makeStorage, type GcsOptions } from '../../gcs/storage.js';
import { parseGsUrl, type Target } from '../../gcs/url.js';
import { LeanplumClient } from '../../leanplum/client.js';
import { DEFAULT_API_URL } from '../../leanplum/contract.js';
import { scrubError } from '../../leanplum/redact.js';
import { inputIdentities } from '../../pipeline/sources.js';
import { adoptJob, launchStage, type LaunchOptions } from '../../pipeline/launch.js';
import { withRunLock, type RunLock } from '../../pipeline/lock.js';
import type { Log } from '../../pipeline/log.js';
import { loadManifest } from '../../pipeline/manifest.js';
import { enforce, isRefusal, mayLaunch, mayResume, unknownLaunch } from '../../pipeline/run-machine.js';
import { attachResults } from '../../pipeline/run-state.js';
import { jobsToAsk, loadRuns, readRunStatus, totals, type RunStatus } from '../../pipeline/status.js';
import { buildTransformConfig, type TransformConfig } from '../../pipeline/transform-config.js';
import { ensureOutputs } from '../../pipeline/transform-stage.js';
import { RemoteState, claimLayout, stateObject } from '../../pipeline/remote-state.js';
import { effectiveOptions } from '../../pipeline/transform-options.js';
import { uploadStage } from '../../pipeline/upload.js';
import { judgeResults, waitStage, type WaitOutcome } from '../../pipeline/wait.js';
import { sha256Stream } from '../../pipeline/file-hash.js';
import { parseDuration } from '../../time/duration.js';
import { confirmOnTty } from '../confirm.js';
import { inputsOf, logEvent, stdinSource, type Args } from '../context.js';
import { list, rawTransformOptions } from '../options.js';
import { fastPathFromEnv, transformLocked } from './transform.js';

function target(a: Args, required: boolean): Target | undefined {
  if (typeof a['to'] === 'string') return parseGsUrl(a['to']);
  if (typeof a['bucket'] === 'string') return parseGsUrl(`gs://${a['bucket']}/${String(a['prefix'] ?? '')}`);
  if (required) throw new BackfillError('CONFIG_INVALID', 'to: a destination is required', 'Give --to gs://<bucket>/<prefix> (or --bucket and --prefix).');
  return undefined;
}

function gcsOptions(a: Args): GcsOptions {
  return {
    apiEndpoint: process.env['STORAGE_EMULATOR_HOST'] || undefined,
    projectId: process.env['GOOGLE_CLOUD_PROJECT'] || undefined,
    chunkSize: typeof a['chunk-size'] === 'number' ? a['chunk-size'] : undefined,
  };
}

async function devKey(a: Args): Promise<string> {
  const file = a['client-key-file'];
  if (typeof file === 'string') {
    try {
      const key = (await readFile(file, 'utf8')).trim();
      if (key) return key;
    } catch (e) {
      throw new BackfillError('CONFIG_INVALID', `client-key-file: cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    throw new BackfillError('CONFIG_INVALID', `client-key-file: "${file}" is empty`);
  }
  const env = process.env['LEANPLUM_DEV_KEY']?.trim();
  if (env) return env;
  throw new BackfillError(
    'CONFIG_INVALID',
    "no Leanplum key: CSV imports need the app's Development key",
    'Set LEANPLUM_DEV_KEY (or pass --client-key-file <path>). Keys are never accepted as flag values, so they stay out of shell history and process lists.',
  );
}

/** An option that may be given once: where the key goes must never depend on which copy wins. */
function once(a: Args, name: string): string | undefined {
  const v = a[name];
  if (Array.isArray(v)) throw new BackfillError('CONFIG_INVALID', `${name}: given ${v.length} times (${v.map(String).join(', ')})`, `Give --${name} once.`);
  return typeof v === 'string' ? v : undefined;
}

async function client(a: Args, log: Log): Promise<{ client: LeanplumClient; appId: string; apiUrl: string; key: string }> {
  const m = await loadManifest(String(a['dir'] ?? a['out'] ?? '')).catch(() => undefined);
  const apiUrlFlag = once(a, 'api-url');
  const appIdFlag = once(a, 'app-id');
  const appId = appIdFlag ?? m?.leanplum?.appId;
  if (!appId) throw new BackfillError('CONFIG_INVALID', 'app-id: required', 'Give --app-id <your Leanplum app id>.');
  // never the manifest's URL: the stages check that it agrees with this one (run-machine apiUrlGate)
  const apiUrl = apiUrlFlag ?? DEFAULT_API_URL;
  const key = await devKey(a);
  const c = new LeanplumClient({
    apiUrl,
    appId,
    clientKey: key,
    onRetry: (what, attempt, delay, reason) =>
      log(
        'retry',
        { what, attempt, delayMs: delay, reason },
        `retry      ${what} attempt ${attempt} failed (${reason}); next in ${(delay / 1000).toFixed(1)}s`,
      ),
  });
  return { client: c, appId, apiUrl, key };
}

const logger =
  (a: Args): Log =>
  (event, fields, text) =>
    logEvent(a, event, fields, text);

/** Wraps a command so that no error can carry the key out, whatever path it took. */
export async function scrubbed<T>(key: () => string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    scrubError(e, key());
    throw e;
  }
}

type Connected = Awaited<ReturnType<typeof client>>;

/** Every command that talks to Leanplum: the key is read once and scrubbed from any error. */
async function withLeanplumClient(a: Args, fn: (c: Connected) => Promise<unknown>): Promise<void> {
  let key: string | undefined;
  await scrubbed(
    () => key,
    async () => {
      const c = await client(a, logger(a));
      key = c.key;
      await fn(c);
    },
  );
}

export async function uploadCommand(a: Args): Promise<void> {
  const dir = String(a['dir']);
  const o = gcsOptions(a);
  const tgt = target(a, true)!;
  const storage = makeStorage(o);
  await withRunLock(dir, 'upload', async (lock) => {
    await attachState(lock, storage, undefined, logger(a));
    await uploadStage(lock, tgt, storage, o, logger(a));
  });
}

async function confirmLaunch(a: Args, dir: string): Promise<void> {
  if (a['yes'] === true) return;
  const m = (await loadManifest(dir))!;
  const summary = `About to launch ${m.parts.length} Leanplum import job(s) for ${m.parts.reduce((s, p) => s + p.rows, 0)} rows from ${m.transform!.inputs.map((i) => i.name).join(', ')}.\nThe report: ${dir}/report.html. Imported events fire campaigns like live ones.`;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new BackfillError('LAUNCH_REFUSED', 'not launching without confirmation: no terminal to ask on', 'Read the report, then run again with --yes.');
  }
  process.stderr.write(summary + '\n');
  if (!(await confirmOnTty('Launch now?')))
    throw new BackfillError('LAUNCH_REFUSED', 'launch cancelled', 'Nothing was sent to Leanplum. Run again when ready.');
}

const launchOptions = (a: Args, c: Connected): LaunchOptions => ({
  relaunch: a['relaunch'] === true,
  relaunchUnknown: list(a, 'relaunch-unknown') ?? [],
  publicWhileImporting: a['public-while-importing'] === true,
  now: () => new Date(),
  appId: c.appId,
  apiUrl: c.apiUrl,
});

/**
 * Asks the state machine first, so a refused launch (sampled, rejects, stale, unknown outcome)
 * is refused before the confirmation prompt; then launches what the plan holds.
 */
async function launchIfNeeded(a: Args, lock: RunLock, c: Connected, log: Log): Promise<string[]> {
  for (const pair of list(a, 'adopt-job') ?? []) {
    const eq = pair.lastIndexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new BackfillError('CONFIG_INVALID', `adopt-job: expected <part>=<jobId>, found "${pair}"`, 'Example: --adopt-job clean.csv=5123456789');
    await adoptJob(lock, pair.slice(0, eq), pair.slice(eq + 1), log);
  }
  const o = launchOptions(a, c);
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
  await confirmLaunch(a, lock.dir);
  const storage = o.publicWhileImporting ? makeStorage(gcsOptions(a)) : undefined;
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

export async function launchCommand(a: Args): Promise<void> {
  const dir = String(a['dir']);
  await withLeanplumClient(a, (c) =>
    withRunLock(dir, 'launch', async (lock) => {
      await attachState(lock, makeStorage(gcsOptions(a)), undefined, logger(a));
      const failed = await launchIfNeeded(a, lock, c, logger(a));
      if (failed.length > 0) throw failedLeftAlone(failed);
    }),
  );
}

function duration(a: Args, name: string): number {
  const s = parseDuration(String(a[name]));
  if (s === undefined) throw new BackfillError('CONFIG_INVALID', `${name}: expected a duration like 30s, 10m or 6h, found "${String(a[name])}"`);
  return s * 1000;
}

async function follow(a: Args, lock: RunLock, c: Connected): Promise<WaitOutcome> {
  const dir = lock.dir;
  const log = logger(a);
  const o = gcsOptions(a);
  const out = await waitStage(
    lock,
    c.client,
    makeStorage(o),
    {
      timeoutMs: duration(a, 'timeout'),
      pollMs: duration(a, 'poll-interval'),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      deleteAfter: a['delete-after'] === true,
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
      `the job(s) for ${out.pending.join(', ')} did not finish within --timeout ${String(a['timeout'])}`,
      `They go on inside Leanplum. Run \`lp-backfill wait ${dir} --api-url ${c.apiUrl}\` again later.`,
    );
  }
  // the other parts were followed and their results written; the unknown one still needs a decision
  const unknown = out.manifest.parts.find((p) => p.launch?.status === 'launching');
  if (unknown !== undefined) enforce(unknownLaunch(dir, unknown, out.manifest.stateUrl));
  process.stdout.write(`results    ${dir}/results/summary.json, ${dir}/server-rejects.csv, report ${dir}/report.html\n`);
  const verdict = judgeResults(out.results);
  if (verdict) throw verdict;
  return out;
}

export async function waitCommand(a: Args): Promise<void> {
  const dir = String(a['dir']);
  await withLeanplumClient(a, (c) =>
    withRunLock(dir, 'wait', async (lock) => {
      await attachState(lock, makeStorage(gcsOptions(a)), undefined, logger(a));
      await follow(a, lock, c);
    }),
  );
}

/**
 * Read-only: no lock, no writes. One or many runs (shards): directories or --state-to URLs; asks
 * Leanplum only about jobs not known to have ended, and needs the key only then.
 */
export async function statusCommand(a: Args): Promise<void> {
  const wheres = ([] as unknown[]).concat(a['dir'] ?? []).map(String);
  const storage = () => makeStorage(gcsOptions(a));
  const { runs: found, missing, warnings } = await loadRuns(wheres, storage);
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
        `total      ${t.runs} runs, ${n(t.parts)} parts, ${n(t.rows)} rows; ${Object.entries(t.byState)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}\n`,
      );
      process.stdout.write(`           not finished: ${t.notFinished.length === 0 ? 'none' : t.notFinished.join(', ')}\n`);
      if (t.billableLookups !== null) process.stdout.write(`           billable lookups (as written): ${n(t.billableLookups)}\n`);
    }
  };
  if (found.some((r) => jobsToAsk(r.manifest).length > 0)) await withLeanplumClient(a, show);
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
export async function runCommand(a: Args): Promise<void> {
  const input = inputsOf(a);
  const dir = String(a['out']);
  const log = logger(a);
  // everything that can be refused is checked before any work
  const tgt = target(a, true)!;
  const cfg = buildTransformConfig(rawTransformOptions(a, input), new Date());
  const stateTo = typeof a['state-to'] === 'string' ? parseGsUrl(a['state-to']) : undefined;
  const o = gcsOptions(a);
  const storage = makeStorage(o);
  await withLeanplumClient(a, (c) =>
    withRunLock(
      dir,
      'run',
      async (lock) => {
        // a task that loses a compare-and-swap on the GCS state reads it again and decides again
        for (let attempt = 1; ; attempt++) {
          try {
            if (stateTo !== undefined) {
              await claimLayout(storage, stateTo.bucket, stateTo.prefix, cfg.shard?.count ?? null, new Date());
              await attachState(lock, storage, stateObject(stateTo.bucket, stateTo.prefix, cfg.shard), log);
            }
            await runStages(a, lock, cfg, c, tgt, storage, o, log);
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

async function runStages(a: Args, lock: RunLock, cfg: TransformConfig, c: Connected, tgt: Target, storage: Storage, o: GcsOptions, log: Log): Promise<void> {
  const dir = lock.dir;
  const input = inputsOf(a);
  const existing = await loadManifest(dir);
  if (existing?.transform && existing.committing === undefined) {
    // files by sha256, gs:// objects by generation (pipeline/sources.ts)
    // standard input cannot be read twice: it is read once here, only to compare its sha256
    const ids = input.includes('-') ? [await sha256Stream(process.stdin as AsyncIterable<Buffer>)] : await inputIdentities(input, async () => storage);
    enforce(mayResume(existing, dir, ids, effectiveOptions(cfg)));
    log('resume', { runId: existing.runId }, `resume     run ${existing.runId}: transform already done, not repeated`);
    const source = stdinSource(input);
    if ((await ensureOutputs(lock, cfg, { ...(source ? { source } : {}), storage: async () => storage, fastPath: fastPathFromEnv() })) === 'recreated') {
      log('recreated', { runId: existing.runId }, `recreated  the clean parts were missing here: made again from the inputs, byte for byte (sha256 checked)`);
    }
  } else {
    await transformLocked(a, 'run', cfg, lock);
  }
  await uploadStage(lock, tgt, storage, o, log);
  await launchIfNeeded(a, lock, c, log);
  await follow(a, lock, c);
  process.stdout.write(`manifest   ${dir}/manifest.json${lock.mirror ? ` (and ${lock.mirror.url})` : ''}\n`);
}
