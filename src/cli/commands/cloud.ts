import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { BackfillError } from '../../errors.js';
import { makeStorage, type GcsOptions } from '../../gcs/storage.js';
import { LeanplumClient } from '../../leanplum/client.js';
import { DEFAULT_API_URL } from '../../leanplum/contract.js';
import { redact } from '../../leanplum/redact.js';
import { judgeResults, launchStage, parseGsUrl, requireManifest, uploadStage, waitStage, type LaunchOptions, type Log, type Target, type WaitOutcome } from '../../pipeline/cloud.js';
import { loadManifest } from '../../pipeline/manifest.js';
import { attachResults } from '../../pipeline/run-state.js';
import { parseDuration } from '../../time/duration.js';
import { confirmOnTty } from '../confirm.js';
import { inputsOf, logEvent, type Args } from '../context.js';
import { transformCommand } from './transform.js';

export const withTarget = <T,>(y: Argv<T>) =>
  y
    .option('to', { type: 'string', describe: 'Destination as gs://<bucket>/<prefix>' })
    .option('bucket', { type: 'string', describe: 'Destination bucket (instead of --to)' })
    .option('prefix', { type: 'string', default: '', describe: 'Object name prefix inside the bucket (with --bucket)' })
    .option('chunk-size', { type: 'number', describe: 'Resumable upload chunk size in bytes (a multiple of 262144); default: one streamed request' });

export const withLeanplum = <T,>(y: Argv<T>) =>
  y
    .option('app-id', { type: 'string', describe: 'Leanplum app id' })
    .option('api-url', { type: 'string', default: DEFAULT_API_URL, describe: 'Leanplum API endpoint (plain http only to loopback)' })
    .option('client-key-file', { type: 'string', describe: 'File holding the app\'s Development key (else the LEANPLUM_DEV_KEY environment variable)' });

export const withLaunch = <T,>(y: Argv<T>) =>
  withLeanplum(y)
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Launch without the confirmation prompt (required off a terminal)' })
    .option('relaunch', { type: 'boolean', default: false, describe: 'Launch again after a launch whose outcome is unknown (check Leanplum first!)' })
    .option('public-while-importing', { type: 'boolean', default: false, describe: 'Make the object publicly readable from just before the launch until the job ends' });

export const withWait = <T,>(y: Argv<T>) =>
  withLeanplum(y)
    .option('timeout', { type: 'string', default: '6h', describe: 'Stop following the job after this long (exit 4; run wait again later)' })
    .option('poll-interval', { type: 'string', default: '10s', describe: 'Time between status checks' })
    .option('delete-after', { type: 'boolean', default: false, describe: 'Delete the uploaded object once its job has finished' });

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
  throw new BackfillError('CONFIG_INVALID', 'no Leanplum key: CSV imports need the app\'s Development key', 'Set LEANPLUM_DEV_KEY (or pass --client-key-file <path>). Keys are never accepted as flag values, so they stay out of shell history and process lists.');
}

async function client(a: Args, log: Log): Promise<{ client: LeanplumClient; appId: string; apiUrl: string; key: string }> {
  const m = await loadManifest(String(a['dir'] ?? a['out'] ?? ''));
  const appId = typeof a['app-id'] === 'string' ? a['app-id'] : m?.leanplum?.appId;
  if (!appId) throw new BackfillError('CONFIG_INVALID', 'app-id: required', 'Give --app-id <your Leanplum app id>.');
  const apiUrl = a['api-url'] !== DEFAULT_API_URL || !m?.leanplum ? String(a['api-url']) : m.leanplum.apiUrl;
  const key = await devKey(a);
  const c = new LeanplumClient({
    apiUrl, appId, clientKey: key,
    onRetry: (what, attempt, delay, reason) => log('retry', { what, attempt, delayMs: delay, reason }, `retry      ${what} attempt ${attempt} failed (${reason}); next in ${(delay / 1000).toFixed(1)}s`),
  });
  return { client: c, appId, apiUrl, key };
}

const logger = (a: Args): Log => (event, fields, text) => logEvent(a, event, fields, text);

/** Wraps a command so that no error can carry the key out, whatever path it took. */
export async function scrubbed<T>(key: () => string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const k = key();
    if (k && e instanceof Error) {
      e.message = redact(e.message, k);
      if (e instanceof BackfillError && e.hint) (e as { hint?: string }).hint = redact(e.hint, k);
    }
    throw e;
  }
}

type Connected = Awaited<ReturnType<typeof client>>;

/** Every command that talks to Leanplum: the key is read once and scrubbed from any error. */
async function withLeanplumClient(a: Args, fn: (c: Connected) => Promise<unknown>): Promise<void> {
  let key: string | undefined;
  await scrubbed(() => key, async () => {
    const c = await client(a, logger(a));
    key = c.key;
    await fn(c);
  });
}

export async function uploadCommand(a: Args): Promise<void> {
  const dir = String(a['dir']);
  const o = gcsOptions(a);
  await uploadStage(dir, target(a, true)!, makeStorage(o), o, logger(a));
}

async function confirmLaunch(a: Args, dir: string): Promise<void> {
  if (a['yes'] === true) return;
  const m = await requireManifest(dir);
  const summary = `About to launch ${m.parts.length} Leanplum import job(s) for ${m.parts.reduce((s, p) => s + p.rows, 0)} rows from ${m.transform!.inputs.map((i) => i.name).join(', ')}.\nThe report: ${dir}/report.html. Imported events fire campaigns like live ones.`;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new BackfillError('LAUNCH_REFUSED', 'not launching without confirmation: no terminal to ask on', 'Read the report, then run again with --yes.');
  }
  process.stderr.write(summary + '\n');
  if (!(await confirmOnTty('Launch now?'))) throw new BackfillError('LAUNCH_REFUSED', 'launch cancelled', 'Nothing was sent to Leanplum. Run again when ready.');
}

const launchOptions = (a: Args, c: Connected): LaunchOptions => ({
  relaunch: a['relaunch'] === true,
  publicWhileImporting: a['public-while-importing'] === true,
  now: () => new Date(),
  appId: c.appId,
  apiUrl: c.apiUrl,
});

export async function launchCommand(a: Args): Promise<void> {
  const dir = String(a['dir']);
  await withLeanplumClient(a, async (c) => {
    await confirmLaunch(a, dir);
    const o = gcsOptions(a);
    await launchStage(dir, c.client, a['public-while-importing'] === true ? makeStorage(o) : undefined, launchOptions(a, c), logger(a));
  });
}

function duration(a: Args, name: string): number {
  const s = parseDuration(String(a[name]));
  if (s === undefined) throw new BackfillError('CONFIG_INVALID', `${name}: expected a duration like 30s, 10m or 6h, found "${String(a[name])}"`);
  return s * 1000;
}

async function follow(a: Args, dir: string, once: boolean, c: LeanplumClient): Promise<WaitOutcome> {
  const log = logger(a);
  const o = gcsOptions(a);
  const out = await waitStage(dir, c, makeStorage(o), {
    timeoutMs: duration(a, 'timeout'), pollMs: duration(a, 'poll-interval'), sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    deleteAfter: a['delete-after'] === true, once,
  }, log);
  if (out.results.length > 0 && out.pending.length === 0) await attachResults(dir, out.results, out.manifest);
  for (const r of out.results) {
    process.stdout.write(`job        ${r.part} ${r.jobId}: ${r.state}, ${r.successes} succeeded, ${r.failures} failed, ${r.warnings} warnings${r.error ? ` — ${r.error}` : ''}\n`);
    for (const [msg, count] of Object.entries(r.byMessage)) process.stdout.write(`           ${count} × ${msg}\n`);
  }
  if (out.pending.length > 0) {
    if (once) {
      for (const p of out.manifest.parts) process.stdout.write(`job        ${p.file} ${p.launch?.jobId}: ${p.job?.state ?? 'unknown'}\n`);
      return out;
    }
    throw new BackfillError('LEANPLUM_FAILED', `the job(s) for ${out.pending.join(', ')} did not finish within --timeout ${String(a['timeout'])}`, `They go on inside Leanplum. Run \`lp-backfill wait ${dir}\` again later.`);
  }
  process.stdout.write(`results    ${dir}/results/summary.json, ${dir}/server-rejects.csv, report ${dir}/report.html\n`);
  const verdict = judgeResults(out.results);
  if (verdict) throw verdict;
  return out;
}

export async function waitCommand(a: Args, once: boolean): Promise<void> {
  const dir = String(a['dir']);
  await withLeanplumClient(a, (c) => follow(a, dir, once, c.client));
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** transform → report → upload → launch → wait, resuming at the first unfinished stage. */
export async function runCommand(a: Args): Promise<void> {
  const input = inputsOf(a);
  const dir = String(a['out']);
  const log = logger(a);
  // everything that can be refused is checked before any work
  const tgt = target(a, true)!;
  await withLeanplumClient(a, async (c) => {
    const existing = await loadManifest(dir);
    if (existing?.transform) {
      if (!input.includes('-')) {
        const now = await Promise.all(input.map(sha256File));
        const then = existing.transform.inputs.map((i) => i.sha256);
        if (now.join() !== then.join()) {
          throw new BackfillError('CONFIG_INVALID', `${dir} was made from other input(s) than ${input.join(', ')} (sha256 differs)`, 'Use a new --out directory for a new input.');
        }
      }
      log('resume', { runId: existing.runId }, `resume     run ${existing.runId}: transform already done, not repeated`);
    } else {
      await transformCommand(a, 'run');
    }
    const m = await requireManifest(dir);
    if (m.transform!.rejectRateExceeded) throw new BackfillError('REJECT_RATE', 'this run\'s transform rejected more rows than --max-reject-rate allowed', 'Start a new --out directory after fixing the input.');
    const o = gcsOptions(a);
    const storage = makeStorage(o);
    await uploadStage(dir, tgt, storage, o, log);
    const needLaunch = (await requireManifest(dir)).parts.some((p) => p.launch?.status !== 'launched');
    if (needLaunch) {
      await confirmLaunch(a, dir);
      await launchStage(dir, c.client, storage, launchOptions(a, c), log);
    } else log('resume', {}, 'resume     jobs already launched: following them');
    await follow(a, dir, false, c.client);
    process.stdout.write(`manifest   ${dir}/manifest.json\n`);
  });
}
