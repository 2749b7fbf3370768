import type { Storage } from '@google-cloud/storage';
import { readJsonObject } from '../gcs/json-object.js';
import { readFailure } from '../gcs/read.js';
import { parseGsUrl } from '../gcs/url.js';
import type { LeanplumClient } from '../leanplum/client.js';
import type { JobState, Manifest } from '../model/manifest.js';
import { checkManifest, loadManifest } from '../run/manifest.js';
import { layoutObject, type StateLayout } from '../run/remote-state.js';
import { apiUrlGate, enforce, partStage, type PartStage } from '../run/run-machine.js';

export interface PartStatus {
  file: string;
  rows: number;
  stage: PartStage;
  jobId?: string;
  /** what Leanplum says now (when asked), else what the manifest last recorded */
  state?: JobState;
  /** earlier jobs replaced by --relaunch */
  replaced: number;
}

export interface RunStatus {
  /** the directory or gs:// state it was read from */
  where: string;
  manifest: Manifest;
  parts: PartStatus[];
}

/** Jobs worth asking Leanplum about: launched and not known to have ended. */
export const jobsToAsk = (m: Manifest): string[] =>
  m.parts
    .filter((p) => p.launch?.status === 'launched' && p.launch.jobId && p.job?.state !== 'FINISHED' && p.job?.state !== 'FAILED')
    .map((p) => p.launch!.jobId!);

/**
 * Finds the manifests behind each argument, read-only: a run directory, or a --state-to URL
 * (gs://bucket/prefix: every manifest under it, the run's and each shard's). `missing` names the
 * shards a prefix's layout promises but holds no state for (a task that never saved, or gave up):
 * their users are not imported, so they must not look finished.
 */
export async function loadRuns(
  wheres: readonly string[],
  storage: () => Storage,
): Promise<{ runs: { where: string; manifest: Manifest }[]; missing: string[]; warnings: string[] }> {
  const runs: { where: string; manifest: Manifest }[] = [];
  const missing: string[] = [];
  const warnings: string[] = [];
  for (const where of wheres) {
    if (!where.startsWith('gs://')) {
      const m = await loadManifest(where);
      if (m === undefined)
        enforce({
          gate: 'no-transform',
          message: `${where} holds no run (no manifest.json)`,
          fix: 'Give the --out directory of a transform or run, or the --state-to URL of a run.',
        });
      runs.push({ where, manifest: m! });
      continue;
    }
    const t = parseGsUrl(where);
    const base = t.prefix ? `${t.prefix}/` : '';
    let files: { name: string }[];
    try {
      [files] = await storage().bucket(t.bucket).getFiles({ prefix: base });
    } catch (e) {
      throw readFailure(`listing ${where}`, e);
    }
    const found = files
      .map((f) => f.name)
      .filter((n) => n === `${base}manifest.json` || /^shard-\d+-of-\d+\/manifest\.json$/.test(n.slice(base.length)))
      .sort((x, y) => shardIndex(x) - shardIndex(y));
    const layout = (await readJsonObject<StateLayout>(storage(), layoutObject(t.bucket, t.prefix))).value;
    if (found.length === 0)
      enforce({
        gate: 'no-transform',
        message: `${where} holds no run state (no manifest.json, no shard-<i>-of-<N>/manifest.json)`,
        fix: 'Give the --state-to URL a run was started with.',
      });
    const counts = new Set(found.map((n) => /shard-\d+-of-(\d+)\//.exec(n)?.[1] ?? 'none'));
    if (counts.size > 1)
      warnings.push(
        `${where} holds runs of different layouts (${[...counts].map((c) => (c === 'none' ? 'unsharded' : `${c} shards`)).join(', ')}): some users may be imported more than once`,
      );
    for (const name of found) {
      const got = await readJsonObject<Manifest>(storage(), { bucket: t.bucket, name });
      if (got.value !== undefined)
        runs.push({ where: `gs://${t.bucket}/${name.replace(/\/?manifest\.json$/, '')}`, manifest: checkManifest(got.value, `gs://${t.bucket}/${name}`) });
    }
    const n = layout?.shardCount ?? null;
    if (n !== null) {
      for (let i = 0; i < n; i++) if (!found.includes(`${base}shard-${i}-of-${n}/manifest.json`)) missing.push(`gs://${t.bucket}/${base}shard-${i}-of-${n}`);
    }
  }
  return { runs, missing, warnings };
}

const shardIndex = (name: string) => Number(/shard-(\d+)-of-/.exec(name)?.[1] ?? 0);

/**
 * Read-only: each part as the manifest has it, with the live state of unfinished jobs when a
 * client is given. Takes no lock and writes nothing, so it is safe beside a running `run` or `wait`.
 */
export async function readRunStatus(where: string, man: Manifest, ask: { client: LeanplumClient; apiUrl: string } | undefined): Promise<RunStatus> {
  if (ask !== undefined) enforce(apiUrlGate(man, ask.apiUrl));
  const parts: PartStatus[] = [];
  for (const p of man.parts) {
    const s: PartStatus = { file: p.file, rows: p.rows, stage: partStage(p), replaced: p.history?.length ?? 0 };
    const jobId = p.launch?.status === 'launched' ? p.launch.jobId : undefined;
    if (jobId !== undefined) {
      s.jobId = jobId;
      const ended = p.job?.state === 'FINISHED' || p.job?.state === 'FAILED';
      if (ask !== undefined && !ended) s.state = (await ask.client.status(jobId)).state;
      else if (p.job !== undefined) s.state = p.job.state;
    }
    parts.push(s);
  }
  return { where, manifest: man, parts };
}

/**
 * The canary's line (issue 20): its verdict as last judged, or that the other parts wait for it;
 * undefined for a run without a canary. A stopped run says which allowance would let it go on.
 */
export function canaryStatus(m: Manifest): string | undefined {
  const part = m.parts.find((p) => p.canary === true);
  if (part === undefined) return undefined;
  const c = m.canary;
  const what = `${part.file} (${c?.users !== undefined ? `${c.users} users, ` : ''}${part.rows} rows)`;
  if (c?.verdict === undefined) {
    const waiting = m.parts.some((p) => p.canary !== true && p.launch === undefined);
    return `canary     ${what}: not judged yet${waiting ? '; the other parts wait for its verdict' : ''}`;
  }
  const found = `${c.failedRows ?? 0} failed row(s), ${c.pastEventWarnings ?? 0} "Past event detected"${c.unknownRows ? `, ${c.unknownRows} row(s) whose answer was lost` : ''} (at most ${c.maxFailures ?? 0} allowed), judged ${c.at ?? '?'}`;
  if (c.verdict === 'passed') return `canary     ${what}: passed, ${found}`;
  const need = (c.failedRows ?? 0) + (c.pastEventWarnings ?? 0) + (c.unknownRows ?? 0);
  return `canary     ${what}: STOPPED the run, ${found}; nothing else was imported. To go on with these rows failed, give --canary-max-failures ${need} to the command that goes on (launch, send, or the run again)`;
}

export interface Totals {
  runs: number;
  parts: number;
  rows: number;
  /** part count by job state; parts without a job by their stage */
  byState: Record<string, number>;
  /** runs with a part whose job has not ended FINISHED */
  notFinished: string[];
  /** billable lookups of the files as written, summed over runs that recorded them */
  billableLookups: number | null;
}

/** Many shards (or runs) as one backfill. Pure. */
export function totals(runs: readonly RunStatus[], missing: readonly string[] = []): Totals {
  const byState: Record<string, number> = {};
  let billable: number | null = null;
  for (const r of runs) {
    for (const p of r.parts) {
      const k = p.state ?? p.stage;
      byState[k] = (byState[k] ?? 0) + 1;
    }
    const b = r.manifest.transform?.billableLookups;
    if (typeof b === 'number') billable = (billable ?? 0) + b;
  }
  return {
    runs: runs.length,
    parts: runs.reduce((s, r) => s + r.parts.length, 0),
    rows: runs.reduce((s, r) => s + r.parts.reduce((x, p) => x + p.rows, 0), 0),
    byState,
    notFinished: [...runs.filter((r) => r.manifest.transform === undefined || r.parts.some((p) => p.state !== 'FINISHED')).map((r) => r.where), ...missing],
    billableLookups: billable,
  };
}
