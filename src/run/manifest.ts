import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BackfillError } from '../errors.js';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../model/manifest.js';
import { TOOL } from '../version.js';
import { readJson, writeJsonAtomic } from '../files/json-file.js';
import type { RunLock } from './lock.js';
import { PART_STAGES } from './part-stage.js';

export type { Manifest, PartState } from '../model/manifest.js';

export const manifestPath = (dir: string) => join(dir, 'manifest.json');

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
}

/** Reads manifest.json (undefined when there is none); a manifest this version cannot read is refused. */
export async function loadManifest(dir: string): Promise<Manifest | undefined> {
  let m: Manifest | undefined;
  try {
    m = await readJson<Manifest>(manifestPath(dir));
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new BackfillError(
        'STAGE_REFUSED',
        `${manifestPath(dir)} is not valid JSON`,
        'The manifest was edited or damaged. Restore it, or start a new run directory.',
        { cause: e },
      );
    }
    throw e;
  }
  return m === undefined ? undefined : checkManifest(m, manifestPath(dir));
}

const PART_FILE = /^clean(-part-\d{3,})?\.csv$/;

/**
 * A manifest is read from disk or GCS, perhaps from someone else: its shape is checked before
 * anything acts on it, and part file names must be this tool's own (never a path elsewhere).
 */
export function checkManifest(m: unknown, where: string): Manifest {
  const bad = (what: string) =>
    new BackfillError(
      'STAGE_REFUSED',
      `${where} is not a manifest this lp-backfill can use: ${what}`,
      'It was edited or damaged. Restore it, or start a new run directory.',
    );
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad('not a JSON object');
  const x = m as Partial<Manifest>;
  if (x.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new BackfillError(
      'STAGE_REFUSED',
      `${where} has schemaVersion ${String(x.schemaVersion)}; this lp-backfill reads ${MANIFEST_SCHEMA_VERSION}`,
      'Finish that run with the lp-backfill version that started it, or transform again into a new --out directory.',
    );
  }
  if (typeof x.runId !== 'string' || !/^[\w-]+$/.test(x.runId)) throw bad('runId missing or not a plain name');
  if (!Array.isArray(x.parts)) throw bad('parts is not a list');
  for (const p of x.parts as unknown[]) {
    const part = p as Partial<Manifest['parts'][number]> | null;
    if (typeof part !== 'object' || part === null) throw bad('a part is not an object');
    if (typeof part.file !== 'string' || !PART_FILE.test(part.file)) throw bad(`part file ${JSON.stringify(part.file)} is not clean.csv or clean-part-NNN.csv`);
    if (typeof part.rows !== 'number' || typeof part.sha256 !== 'string') throw bad(`part ${part.file} has no rows or sha256`);
    if (part.stage !== undefined && !PART_STAGES.includes(part.stage))
      throw bad(`part ${part.file} has stage ${JSON.stringify(part.stage)}, not one of ${PART_STAGES.join(', ')}`);
  }
  if (x.transform !== undefined && (typeof x.transform !== 'object' || x.transform === null || !Array.isArray(x.transform.inputs)))
    throw bad('transform is not a transform record');
  return x as Manifest;
}

/** Only a lock holder writes the manifest; durably (temp, fsync, rename, fsync the directory). */
export async function saveManifest(lock: RunLock, m: Manifest, now: Date): Promise<void> {
  m.updatedAt = now.toISOString();
  if (lock.mirror !== undefined) m.stateUrl = lock.mirror.url;
  await writeJsonAtomic(manifestPath(lock.dir), m);
  // with --state-to the GCS copy is the truth: a save that loses the compare-and-swap stops here
  await lock.mirror?.save(m);
  // the import ledger follows what reached Leanplum (a write only when a part's stage or job changed)
  await lock.ledger?.save(m, now);
}

export function emptyManifest(now: Date): Manifest {
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    runId: newRunId(now),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    tool: { ...TOOL },
    parts: [],
  };
}
