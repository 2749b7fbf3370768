import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BackfillError } from '../errors.js';
import type { Manifest, PartState } from '../model/manifest.js';
import { sha256File } from '../files/file-hash.js';
import { syncDir } from '../files/json-file.js';
import { LOCK_FILE, type RunLock } from '../run/lock.js';
import { emptyManifest, loadManifest, saveManifest } from '../run/manifest.js';
import { enforce, mayTransform } from '../run/run-machine.js';
import type { TransformConfig } from '../transform/transform-config.js';
import { effectiveOptions, optionsHash } from '../transform/transform-options.js';
import { transformWithReport, type ReportedResult } from './transform-with-report.js';
import type { TransformIO } from '../transform/transform.js';

const importable = <P extends { rows: number }>(parts: readonly P[]): P[] => parts.filter((p) => p.rows > 0);

/** Where a transform builds its outputs; moved in only when complete. */
export const STAGING = '.staging';

/** The files a transform (and the results of its jobs) leave in a run directory. */
const OUTPUT = /^(clean(-part-\d+)?\.csv|clean\.lines|rejects\.csv|summary\.json|report\.json|report\.html|server-rejects\.csv|results)$/;

export interface TransformStageResult extends ReportedResult {
  manifest: Manifest;
}

/**
 * The transform as a transition of the run: refused once anything was uploaded; otherwise the
 * outputs are built in a staging directory and moved in by rename(2) only when they are complete
 * and every row is accounted for. A transform that fails (bad input, full disk, conservation)
 * leaves the previous outputs and manifest exactly as they were.
 */
export async function transformStage(
  lock: RunLock,
  cfg: TransformConfig,
  io: TransformIO & { report: boolean },
  now: () => Date = () => new Date(),
  /** the manifest the caller loaded under this lock (else it is read here) */
  known?: { manifest: Manifest | undefined },
): Promise<TransformStageResult> {
  const dir = lock.dir;
  const before = known !== undefined ? known.manifest : await loadManifest(dir);
  enforce(mayTransform(before, dir));
  if (before === undefined) {
    // outputs replace files by name: only in a directory that is a run's, or empty
    const foreign = (await readdir(dir)).filter((n) => n !== LOCK_FILE && n !== STAGING);
    if (foreign.length > 0) {
      throw new BackfillError(
        'STAGE_REFUSED',
        `--out ${dir} is not empty and holds no lp-backfill run (found ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''})`,
        'Give a new or empty directory (it is created if missing), or the --out of an earlier transform.',
      );
    }
  }
  const staging = join(dir, STAGING);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  let result: ReportedResult;
  try {
    result = await transformWithReport({ ...cfg, outDir: staging }, { ...io, now });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    // a write error of a stream names no file: name the directory it was writing into
    const x = e as NodeJS.ErrnoException;
    if (typeof x?.code === 'string' && x.path === undefined && x.syscall === 'write') x.path = dir;
    throw e;
  }
  const parts: PartState[] = [];
  // an empty clean file (no rows kept: a shard without users, a header-only input) is written for
  // the record but is no part of the run: nothing to upload, no job to launch
  for (const p of importable(result.summary.outputs.clean))
    parts.push({
      file: p.file,
      ...(p.canary === true ? { canary: true } : {}),
      rows: p.rows,
      bytes: p.bytes,
      sha256: await sha256File(join(staging, p.file)),
      stage: 'transformed',
    });

  const m = before ?? emptyManifest(now());
  // from here until the manifest says otherwise, the directory may hold a mix of two transforms
  m.committing = { startedAt: now().toISOString(), staging: STAGING };
  await saveManifest(lock, m, now());
  const written = new Set(await readdir(staging));
  for (const name of written) await rename(join(staging, name), join(dir, name));
  for (const name of await readdir(dir)) {
    if (OUTPUT.test(name) && !written.has(name)) await rm(join(dir, name), { recursive: true, force: true });
  }
  await syncDir(dir);

  const s = result.summary;
  const options = effectiveOptions(cfg);
  m.transform = {
    at: now().toISOString(),
    inputs: s.inputs.map((i) => ({
      name: i.name,
      bytes: i.bytes,
      sha256: i.sha256,
      ...(i.generation !== undefined ? { generation: i.generation, crc32c: i.crc32c ?? '' } : {}),
      ...(i.format !== undefined ? { format: i.format, delimiter: i.delimiter } : {}),
    })),
    units: s.inputs.flatMap((i) => (i.entries !== undefined ? i.entries.map((e) => `${i.name}:${e}`) : [i.name])),
    importAt: s.config.importAt,
    importAtGiven: cfg.importAtGiven,
    ...(s.config.clock !== null ? { clock: s.config.clock } : {}),
    staleAfter: s.config.staleAfter,
    sampled: s.sampled,
    rejectRate: s.rejectRate,
    maxRejectRate: s.config.maxRejectRate,
    rejectRateExceeded: s.rejectRateExceeded,
    conservationOk: s.conservation.ok,
    options,
    optionsHash: optionsHash(options),
    ...(result.report !== undefined ? { billableLookups: result.report.cost.billableLookupsAsWritten } : {}),
  };
  m.parts = parts;
  // the canary's part, users and rows; a verdict belongs to the parts it judged, not to these
  if (s.canary?.part) m.canary = { part: s.canary.part, users: s.canary.users, rows: s.canary.rows };
  else delete m.canary;
  delete m.committing;
  await saveManifest(lock, m, now());
  await rm(staging, { recursive: true, force: true });
  const reportPath = result.reportPath === undefined ? undefined : join(dir, 'report.html');
  return { ...result, reportPath, manifest: m };
}

/**
 * A resumed run whose clean parts are gone (a batch engine's new container, with the manifest
 * from --state-to) makes them again: the same inputs and options at the recorded import time give
 * the same bytes, which is checked part by part (sha256) before they are used. Nothing else of
 * the run changes. Parts still present are trusted here; upload checks their sha256 again.
 */
export async function ensureOutputs(lock: RunLock, m: Manifest, cfg: TransformConfig, io: TransformIO): Promise<'present' | 'recreated'> {
  const dir = lock.dir;
  const t = m.transform!;
  const present = async (name: string) => (await stat(join(dir, name)).catch(() => undefined))?.isFile() === true;
  const missing: string[] = [];
  for (const name of [...m.parts.map((p) => p.file), 'clean.lines']) if (!(await present(name))) missing.push(name);
  if (missing.length === 0) return 'present';

  const staging = join(dir, STAGING);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    // the same bytes need the same rule: the recorded import time and the recorded clock
    const recorded = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    const rule = { ...cfg.rule, importAt: recorded(t.importAt), clock: t.clock === undefined ? undefined : recorded(t.clock) };
    const again: TransformConfig = { ...cfg, outDir: staging, rule };
    const result = await transformWithReport(again, { ...io, report: true });
    const made = importable(result.summary.outputs.clean);
    const same =
      made.length === m.parts.length &&
      (await Promise.all(made.map(async (p, i) => p.file === m.parts[i]!.file && (await sha256File(join(staging, p.file))) === m.parts[i]!.sha256))).every(
        Boolean,
      );
    if (!same) {
      throw new BackfillError(
        'STAGE_REFUSED',
        `${missing.join(', ')} missing from ${dir}, and transforming the inputs again at import time ${t.importAt} does not give the same bytes`,
        'The inputs, the options or the lp-backfill version differ from the first run. Run that version on those inputs, or start a new run (and state) for the new ones.',
      );
    }
    for (const name of await readdir(staging)) {
      if (!(await present(name)) || name === 'clean.lines') await rename(join(staging, name), join(dir, name));
    }
    await syncDir(dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return 'recreated';
}
