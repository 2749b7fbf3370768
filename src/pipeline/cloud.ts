import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { parse } from 'csv-parse';
import { readSourceLines } from '../csv/line-index.js';
import { csvLine } from '../csv/write.js';
import { BackfillError } from '../errors.js';
import { deleteObject, gsUrl, setPublicRead, uploadFile, type GcsOptions } from '../gcs/storage.js';
import type { LeanplumClient } from '../leanplum/client.js';
import { CLOCK_SKEW_WARNING, PAST_EVENT_WARNING, TIME_SKEW_WARNING, parseResultLine, type JobStatus } from '../leanplum/contract.js';
import { isStale } from '../time/clamp.js';
import { loadManifest, saveManifest, type Manifest, type PartState } from './manifest.js';

export interface Target {
  bucket: string;
  prefix: string;
}

/** gs://bucket/prefix → {bucket, prefix}. */
export function parseGsUrl(url: string): Target {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new BackfillError('CONFIG_INVALID', `to: expected gs://<bucket>/<prefix>, found "${url}"`, 'Example: --to gs://my-leanplum-imports/backfills');
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

const SAFE_PREFIX = /^[A-Za-z0-9_\-/]*$/;

export async function requireManifest(dir: string): Promise<Manifest> {
  const m = await loadManifest(dir);
  if (!m || !m.transform) {
    throw new BackfillError('CONFIG_INVALID', `${dir} holds no finished transform (manifest.json missing or incomplete)`, 'Run `lp-backfill transform <input> --out <dir>` (or `run`) first.');
  }
  return m;
}

export type Log = (event: string, fields: Record<string, unknown>, text: string) => void;

/**
 * Uploads every part not uploaded yet. Object names carry the run id and a random token fixed at
 * the first upload, so they cannot be guessed and stay the same across resumes.
 */
export async function uploadStage(dir: string, target: Target, storage: Storage, gcs: GcsOptions, log: Log): Promise<Manifest> {
  const m = await requireManifest(dir);
  if (!SAFE_PREFIX.test(target.prefix)) {
    throw new BackfillError('CONFIG_INVALID', `prefix "${target.prefix}" has characters Leanplum's importer may not accept`, 'Use letters, digits, _, - and / only.');
  }
  if (m.target && (m.target.bucket !== target.bucket || m.target.prefix !== target.prefix)) {
    throw new BackfillError('CONFIG_INVALID', `this run was uploaded to gs://${m.target.bucket}/${m.target.prefix}, not gs://${target.bucket}/${target.prefix}`, 'Use the same --to as before, or start a new run directory.');
  }
  m.target ??= { ...target, token: randomBytes(8).toString('hex') };
  const folder = `${m.target.prefix ? m.target.prefix + '/' : ''}${m.runId}-${m.target.token}`;
  for (const part of m.parts) {
    part.bucket = m.target.bucket;
    part.object ??= `${folder}/${part.file}`;
    if (part.upload) continue;
    // the name is saved before the bytes move, so a rerun after a crash targets the same object
    await saveManifest(dir, m);
    const ref = { bucket: part.bucket, name: part.object };
    log('upload', { file: part.file, to: gsUrl(ref) }, `upload     ${part.file} → ${gsUrl(ref)}`);
    const r = await uploadFile(storage, join(dir, part.file), ref, gcs);
    part.upload = { at: new Date().toISOString(), outcome: r.status, crc32c: r.crc32c, size: r.size, generation: r.generation };
    await saveManifest(dir, m);
    log('uploaded', { file: part.file, outcome: r.status, crc32c: r.crc32c }, `           ${r.status === 'uploaded' ? 'uploaded' : 'already there (same crc32c)'}, ${r.size} bytes, crc32c ${r.crc32c}`);
  }
  await saveManifest(dir, m);
  return m;
}

export interface LaunchOptions {
  relaunch: boolean;
  publicWhileImporting: boolean;
  now: () => Date;
  appId: string;
  apiUrl: string;
}

/**
 * Launches one job per uploaded part, at most once: 'launching' is saved before the POST and the
 * jobId after, so a crash in between is seen as an unknown outcome and never retried silently.
 */
export async function launchStage(dir: string, client: LeanplumClient, storage: Storage | undefined, o: LaunchOptions, log: Log): Promise<Manifest> {
  const m = await requireManifest(dir);
  m.leanplum = { appId: o.appId, apiUrl: o.apiUrl };
  for (const part of m.parts) {
    if (part.launch?.status === 'launched') continue;
    if (!part.upload || !part.bucket || !part.object) {
      throw new BackfillError('CONFIG_INVALID', `${part.file} is not uploaded yet`, 'Run `lp-backfill upload <dir> --to gs://...` first (or `run`).');
    }
    if (part.launch?.status === 'launching' && !o.relaunch) {
      throw new BackfillError(
        'LAUNCH_UNKNOWN',
        `an earlier launch of ${part.file} (started ${part.launch.startedAt}) ended without an answer: Leanplum may already be importing it`,
        'Check the app\'s import jobs in Leanplum (or ask Leanplum support). If no job was created, run again with --relaunch; otherwise do nothing, a second job would import every row twice.',
      );
    }
    if (isStale(m.transform!.staleAfter, o.now())) {
      throw new BackfillError(
        'CLAMP_STALE',
        `the clamp of this run is stale: it was computed for import time ${m.transform!.importAt} and is only safe until ${m.transform!.staleAfter}`,
        'Transform again (a new --out directory) so old events are clamped for the real import time, then launch that run.',
      );
    }
    const ref = { bucket: part.bucket, name: part.object };
    if (o.publicWhileImporting && storage && !part.public) {
      await setPublicRead(storage, ref, true);
      part.public = { since: new Date().toISOString() };
      await saveManifest(dir, m);
      log('public', { file: part.file }, `public     ${gsUrl(ref)} is publicly readable until the job ends`);
    }
    part.launch = { status: 'launching', startedAt: o.now().toISOString(), attempts: (part.launch?.attempts ?? 0) + 1 };
    await saveManifest(dir, m);
    try {
      const r = await client.launch({ bucket: part.bucket, file: part.object });
      part.launch = { ...part.launch, status: 'launched', jobId: r.jobId, launchedAt: new Date().toISOString() };
      await saveManifest(dir, m);
      log('launched', { file: part.file, jobId: r.jobId }, `launched   ${part.file}: job ${r.jobId}${r.warning ? ` (warning: ${r.warning})` : ''}`);
    } catch (e) {
      if (e instanceof BackfillError && e.code === 'LEANPLUM_FAILED') {
        // a clear refusal: nothing was created, so launching again later is safe
        part.launch = { ...part.launch, status: 'refused', message: e.message };
        await revokePublic(dir, m, part, storage, log);
        await saveManifest(dir, m);
      }
      throw e;
    }
  }
  return m;
}

async function revokePublic(dir: string, m: Manifest, part: PartState, storage: Storage | undefined, log: Log): Promise<void> {
  if (!part.public || part.public.until || !storage || !part.bucket || !part.object) return;
  await setPublicRead(storage, { bucket: part.bucket, name: part.object }, false);
  const until = new Date();
  part.public.until = until.toISOString();
  part.public.exposedSeconds = Math.round((until.getTime() - Date.parse(part.public.since)) / 1000);
  await saveManifest(dir, m);
  log('revoked', { file: part.file, exposedSeconds: part.public.exposedSeconds }, `private    public access revoked after ${part.public.exposedSeconds}s`);
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  sleep: (ms: number) => Promise<void>;
  deleteAfter: boolean;
  /** poll once and return (lp-backfill status) */
  once: boolean;
}

export interface ResultsSummary {
  part: string;
  jobId: string;
  state: JobStatus['state'];
  successes: number;
  failures: number;
  warnings: number;
  pastEventWarnings: number;
  /** "Device clock skew detected" and "Anomaly detected: time skew" (LEANPLUM-API.md asks to count them) */
  clockSkewWarnings: number;
  timeSkewWarnings: number;
  byMessage: Record<string, number>;
  joined: boolean;
  note?: string;
  error?: string;
}

const ENDED = new Set(['FINISHED', 'FAILED']);

/** Leanplum's per-row answers, counted by message and by the warnings that matter here. Pure. */
export function tallyResultLines(lines: readonly string[]) {
  const byMessage: Record<string, number> = {};
  const flagged: { row: number; kind: 'error' | 'warning'; message: string }[] = [];
  let warnings = 0;
  let pastEventWarnings = 0;
  let clockSkewWarnings = 0;
  let timeSkewWarnings = 0;
  lines.forEach((l, i) => {
    const r = parseResultLine(l);
    const msg = r.error ?? r.warning;
    if (msg === undefined) return;
    // "(731 days ago)" varies per row: group by the message's shape
    const key = msg.replace(/\(\d+ days? (ago|behind)\)/, '(N days $1)');
    byMessage[key] = (byMessage[key] ?? 0) + 1;
    if (!r.success) flagged.push({ row: i, kind: 'error', message: msg });
    else {
      warnings++;
      if (PAST_EVENT_WARNING.test(msg)) pastEventWarnings++;
      else if (CLOCK_SKEW_WARNING.test(msg)) clockSkewWarnings++;
      else if (TIME_SKEW_WARNING.test(msg)) timeSkewWarnings++;
      flagged.push({ row: i, kind: 'warning', message: msg });
    }
  });
  return { flagged, counts: { warnings, pastEventWarnings, clockSkewWarnings, timeSkewWarnings, byMessage } };
}

/** Reads every results file of a finished job, counts by message and writes server-rejects rows. */
async function collectResults(dir: string, m: Manifest, part: PartState, status: JobStatus, client: LeanplumClient): Promise<{ summary: ResultsSummary; rejects: string[] }> {
  const lines: string[] = [];
  await mkdir(join(dir, 'results'), { recursive: true });
  let n = 0;
  for (const url of status.files ?? []) {
    const text = await client.fetchResults(url);
    await writeFile(join(dir, 'results', `${part.file.replace(/\.csv$/, '')}-results-${n++}.jsonl`), text);
    for (const l of text.split('\n')) if (l.trim() !== '') lines.push(l);
  }
  const { flagged, counts } = tallyResultLines(lines);
  const joined = lines.length === part.rows;
  const summary: ResultsSummary = {
    part: part.file, jobId: part.launch!.jobId!, state: status.state,
    successes: status.successes ?? 0, failures: status.failures ?? 0, ...counts, joined,
  };
  if (!joined) summary.note = `${lines.length} result lines for ${part.rows} rows: rows cannot be matched by position`;
  const rejects: string[] = [];
  if (flagged.length > 0) {
    const offset = m.parts.slice(0, m.parts.indexOf(part)).reduce((s, p) => s + p.rows, 0);
    const origins = joined ? await readSourceLines(join(dir, 'clean.lines'), flagged.map((f) => offset + f.row)) : new Map<number, { file: number; line: number }>();
    const inputNames = m.transform!.inputs.map((i) => i.name);
    const wanted = new Map(flagged.map((f) => [f.row, f]));
    const rows = joined ? await pickRows(join(dir, part.file), new Set(wanted.keys())) : new Map<number, string[]>();
    for (const f of flagged) {
      const o = origins.get(offset + f.row);
      rejects.push(csvLine([part.file, String(f.row + 1), o ? (inputNames[o.file] ?? '') : '', o ? String(o.line) : '', f.kind, f.message, ...(rows.get(f.row) ?? [])]));
    }
  }
  return { summary, rejects };
}

/** Header names are validated (no quotes, commas or newlines), so the first line splits plainly. */
async function readFirstLine(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    return b.subarray(0, bytesRead).toString('utf8').split('\n', 1)[0]!;
  } finally {
    await fh.close();
  }
}

/** The data rows (0-based, header excluded) at the given indices of a clean CSV part. */
async function pickRows(path: string, indices: Set<number>): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  let i = -1;
  for await (const rec of createReadStream(path).pipe(parse({ relax_column_count: true }))) {
    if (i >= 0 && indices.has(i)) out.set(i, rec as string[]);
    i++;
  }
  return out;
}

export interface WaitOutcome {
  manifest: Manifest;
  results: ResultsSummary[];
  pending: string[];
}

/**
 * Follows every launched job until Leanplum says FINISHED or FAILED (or the timeout), then
 * revokes public access, fetches and summarises the results. Status polls are retried by the client.
 */
export async function waitStage(dir: string, client: LeanplumClient, storage: Storage | undefined, o: WaitOptions, log: Log): Promise<WaitOutcome> {
  const m = await requireManifest(dir);
  const results: ResultsSummary[] = [];
  const allRejects: string[] = [];
  const pending: string[] = [];
  const started = Date.now();
  for (const part of m.parts) {
    if (part.launch?.status !== 'launched' || !part.launch.jobId) {
      throw new BackfillError('CONFIG_INVALID', `${part.file} has no launched job to follow`, 'Run `lp-backfill launch <dir>` first (or `run`).');
    }
    let status: JobStatus;
    let lastState = '';
    for (;;) {
      status = await client.status(part.launch.jobId);
      part.job = { ...part.job, state: status.state, checkedAt: new Date().toISOString() };
      if (status.state !== lastState) {
        log('job', { file: part.file, jobId: part.launch.jobId, state: status.state }, `job        ${part.launch.jobId}: ${status.state}`);
        lastState = status.state;
        await saveManifest(dir, m);
      }
      if (ENDED.has(status.state) || o.once) break;
      if (Date.now() - started > o.timeoutMs) break;
      await o.sleep(o.pollMs);
    }
    if (!ENDED.has(status.state)) {
      pending.push(part.file);
      continue;
    }
    await revokePublic(dir, m, part, storage, log);
    if (status.state === 'FAILED') {
      part.job = { ...part.job, state: 'FAILED', checkedAt: new Date().toISOString(), ...(status.error ? { error: status.error } : {}) };
      results.push({ part: part.file, jobId: part.launch.jobId, state: 'FAILED', successes: 0, failures: 0, ...tallyResultLines([]).counts, joined: false, ...(status.error ? { error: status.error } : {}) });
    } else {
      const { summary, rejects } = await collectResults(dir, m, part, status, client);
      results.push(summary);
      allRejects.push(...rejects);
      part.job = { ...part.job, state: 'FINISHED', checkedAt: new Date().toISOString(), successes: summary.successes, failures: summary.failures, files: status.files ?? [], warnings: summary.warnings, pastEventWarnings: summary.pastEventWarnings };
      if (o.deleteAfter && storage && part.bucket && part.object && !part.deletedAt) {
        await deleteObject(storage, { bucket: part.bucket, name: part.object });
        part.deletedAt = new Date().toISOString();
      }
    }
    await saveManifest(dir, m);
  }
  if (results.length > 0 && pending.length === 0) {
    await mkdir(join(dir, 'results'), { recursive: true });
    const cleanHeader = (await readFirstLine(join(dir, m.parts[0]!.file))).split(',');
    await writeFile(join(dir, 'server-rejects.csv'), csvLine(['part', 'row', 'sourceFile', 'sourceLine', 'kind', 'message', ...cleanHeader]) + allRejects.join(''));
    await writeFile(join(dir, 'results', 'summary.json'), JSON.stringify({ jobs: results }, null, 2) + '\n');
  }
  return { manifest: m, results, pending };
}

/** Exit codes for what the jobs said: FAILED, row failures and "Past event detected" are all 5. */
export function judgeResults(results: readonly ResultsSummary[]): BackfillError | undefined {
  const failed = results.filter((r) => r.state === 'FAILED');
  if (failed.length > 0) {
    return new BackfillError(
      'JOB_FAILED',
      `Leanplum import job(s) FAILED: ${failed.map((f) => `${f.part} (${f.jobId}): ${f.error ?? 'no reason given'}`).join('; ')}`,
      'Most often Leanplum could not read the file: the bucket must grant Leanplum\'s account read access, or use --public-while-importing. Fix that, then run again with --relaunch.',
    );
  }
  const past = results.reduce((s, r) => s + r.pastEventWarnings, 0);
  if (past > 0) {
    return new BackfillError(
      'JOB_ROW_FAILURES',
      `${past} row(s) came back with "Past event detected … Rewriting timestamp": Leanplum filed them at the time of import. The clamp did not protect them (the job ran later than --max-delay allowed, or the clock was off)`,
      'See server-rejects.csv. Those events now sit at the import time in Leanplum; tell the app owner before anything else.',
    );
  }
  const failures = results.reduce((s, r) => s + r.failures, 0);
  if (failures > 0) {
    return new BackfillError('JOB_ROW_FAILURES', `${failures} row(s) failed inside Leanplum`, 'See server-rejects.csv for each row, its source line and Leanplum\'s message.');
  }
  return undefined;
}
