import { mkdir, open, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { parse } from 'csv-parse';
import { readSourceLines } from '../../transform/line-index.js';
import { csvLine } from '../../transform/csv-line.js';
import { BackfillError } from '../../errors.js';
import { deleteObject } from '../../gcs/storage.js';
import type { LeanplumClient } from '../../leanplum/client.js';
import { CLOCK_SKEW_WARNING, PAST_EVENT_WARNING, TIME_SKEW_WARNING, parseResultLine, type JobStatus } from '../../leanplum/contract.js';
import type { Manifest, PartState } from '../../model/manifest.js';
import type { ResultsSummary } from '../../model/results.js';
import { revokePublic } from './exposure.js';
import type { RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { saveManifest } from '../../run/manifest.js';
import { advance, jobEvent } from '../../run/part-stage.js';

export type { ResultsSummary } from '../../model/results.js';

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  sleep: (ms: number) => Promise<void>;
  deleteAfter: boolean;
  /** the API the key goes to: must be the one the run was launched through */
  apiUrl: string;
  now: () => Date;
  /** follow only this part (the canary, followed alone before the rest is launched) */
  only?: string;
}

const ENDED = new Set(['FINISHED', 'FAILED']);

/** Earlier jobs of a part, for the results and the report: a relaunch never hides a FAILED job. */
const replacedOf = (part: PartState): Pick<ResultsSummary, 'replaced'> =>
  part.history?.length ? { replaced: part.history.map((h) => ({ jobId: h.jobId ?? null, outcome: h.outcome, error: h.error ?? null })) } : {};

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
async function collectResults(
  dir: string,
  m: Manifest,
  part: PartState,
  status: JobStatus,
  client: LeanplumClient,
): Promise<{ summary: ResultsSummary; rejects: string[] }> {
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
    part: part.file,
    jobId: part.launch!.jobId!,
    state: status.state,
    successes: status.successes ?? 0,
    failures: status.failures ?? 0,
    ...counts,
    joined,
  };
  if (!joined) summary.note = `${lines.length} result lines for ${part.rows} rows: rows cannot be matched by position`;
  const rejects: string[] = [];
  if (flagged.length > 0) {
    const offset = m.parts.slice(0, m.parts.indexOf(part)).reduce((s, p) => s + p.rows, 0);
    const origins = joined
      ? await readSourceLines(
          join(dir, 'clean.lines'),
          flagged.map((f) => offset + f.row),
        )
      : new Map<number, { file: number; line: number }>();
    // clean.lines numbers the units read (a zip's entries one by one), not the top-level inputs
    const inputNames = m.transform!.units ?? m.transform!.inputs.map((i) => i.name);
    const wanted = new Map(flagged.map((f) => [f.row, f]));
    const rows = joined ? await pickRows(join(dir, part.file), new Set(wanted.keys())) : new Map<number, string[]>();
    for (const f of flagged) {
      const o = origins.get(offset + f.row);
      rejects.push(
        csvLine([part.file, String(f.row + 1), o ? (inputNames[o.file] ?? '') : '', o ? String(o.line) : '', f.kind, f.message, ...(rows.get(f.row) ?? [])]),
      );
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
  // pipeline(), not .pipe(): a read error rejects here instead of being lost
  await pipeline(createReadStream(path), parse({ relax_column_count: true }), async (records: AsyncIterable<string[]>) => {
    for await (const rec of records) {
      if (i >= 0 && indices.has(i)) out.set(i, rec);
      i++;
    }
  });
  return out;
}

export interface WaitOutcome {
  manifest: Manifest;
  results: ResultsSummary[];
  pending: string[];
  /** parts whose launch had no answer: no job id to follow (the others are followed all the same) */
  unknown: { file: string; startedAt: string }[];
}

/**
 * Follows every launched job until Leanplum says FINISHED or FAILED (or the timeout), then
 * revokes public access, fetches and summarises the results. Status polls are retried by the
 * client. The caller (pipeline/run.ts) has asked mayWait on this manifest.
 */
export async function waitStage(
  lock: RunLock,
  m: Manifest,
  client: LeanplumClient,
  storage: Storage | undefined,
  o: WaitOptions,
  log: Log,
): Promise<WaitOutcome> {
  const dir = lock.dir;
  const results: ResultsSummary[] = [];
  const allRejects: string[] = [];
  const pending: string[] = [];
  const unknown: WaitOutcome['unknown'] = [];
  const started = o.now().getTime();
  for (const part of m.parts) {
    if (o.only !== undefined && part.file !== o.only) continue;
    // not launched: a part waiting for the canary's verdict (mayWait allowed nothing else)
    if (part.launch === undefined || part.launch.status === 'refused') continue;
    if (part.launch?.status === 'launching') {
      unknown.push({ file: part.file, startedAt: part.launch.startedAt });
      continue;
    }
    const jobId = part.launch!.jobId!;
    let status: JobStatus;
    let lastState = '';
    for (;;) {
      status = await client.status(jobId);
      advance(part, jobEvent(status.state));
      part.job = { ...part.job, state: status.state, checkedAt: o.now().toISOString() };
      if (status.state !== lastState) {
        log('job', { file: part.file, jobId: jobId, state: status.state }, `job        ${jobId}: ${status.state}`);
        lastState = status.state;
        await saveManifest(lock, m, o.now());
      }
      if (ENDED.has(status.state)) break;
      if (o.now().getTime() - started > o.timeoutMs) break;
      await o.sleep(o.pollMs);
    }
    if (!ENDED.has(status.state)) {
      pending.push(part.file);
      continue;
    }
    await revokePublic(lock, m, part, storage, log, o.now);
    if (status.state === 'FAILED') {
      part.job = { ...part.job, state: 'FAILED', checkedAt: o.now().toISOString(), ...(status.error ? { error: status.error } : {}) };
      results.push({
        part: part.file,
        jobId: jobId,
        state: 'FAILED',
        successes: 0,
        failures: 0,
        ...tallyResultLines([]).counts,
        joined: false,
        ...(status.error ? { error: status.error } : {}),
        ...replacedOf(part),
      });
    } else {
      const { summary, rejects } = await collectResults(dir, m, part, status, client);
      results.push({ ...summary, ...replacedOf(part) });
      allRejects.push(...rejects);
      part.job = {
        ...part.job,
        state: 'FINISHED',
        checkedAt: o.now().toISOString(),
        successes: summary.successes,
        failures: summary.failures,
        files: status.files ?? [],
        warnings: summary.warnings,
        pastEventWarnings: summary.pastEventWarnings,
      };
      if (o.deleteAfter && storage && part.bucket && part.object && !part.deletedAt) {
        await deleteObject(storage, { bucket: part.bucket, name: part.object });
        part.deletedAt = o.now().toISOString();
      }
    }
    await saveManifest(lock, m, o.now());
  }
  if (results.length > 0 && pending.length === 0) {
    await mkdir(join(dir, 'results'), { recursive: true });
    const cleanHeader = (await readFirstLine(join(dir, m.parts.find((p) => p.file === results[0]!.part)!.file))).split(',');
    await writeFile(
      join(dir, 'server-rejects.csv'),
      csvLine(['part', 'row', 'sourceFile', 'sourceLine', 'kind', 'message', ...cleanHeader]) + allRejects.join(''),
    );
    await writeFile(join(dir, 'results', 'summary.json'), JSON.stringify({ jobs: results }, null, 2) + '\n');
  }
  return { manifest: m, results, pending, unknown };
}

/** Exit codes for what the jobs said: FAILED, row failures and "Past event detected" are all 5. */
export function judgeResults(results: readonly ResultsSummary[]): BackfillError | undefined {
  const failed = results.filter((r) => r.state === 'FAILED');
  if (failed.length > 0) {
    return new BackfillError(
      'JOB_FAILED',
      `Leanplum import job(s) FAILED: ${failed.map((f) => `${f.part} (${f.jobId}): ${f.error ?? 'no reason given'}`).join('; ')}`,
      "Most often Leanplum could not read the file: the bucket must grant Leanplum's account read access, or use --public-while-importing. Fix that, then run again with --relaunch.",
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
    return new BackfillError(
      'JOB_ROW_FAILURES',
      `${failures} row(s) failed inside Leanplum`,
      "See server-rejects.csv for each row, its source line and Leanplum's message.",
    );
  }
  return undefined;
}
