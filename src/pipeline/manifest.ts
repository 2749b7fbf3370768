import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BackfillError } from '../errors.js';
import { MANIFEST_SCHEMA_VERSION, type Manifest } from '../model/manifest.js';
import { TOOL } from '../version.js';
import { readJson, writeJsonAtomic } from './json-file.js';
import type { RunLock } from './lock.js';

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
      throw new BackfillError('STAGE_REFUSED', `${manifestPath(dir)} is not valid JSON`, 'The manifest was edited or damaged. Restore it, or start a new run directory.', { cause: e });
    }
    throw e;
  }
  if (m !== undefined && m.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new BackfillError(
      'STAGE_REFUSED',
      `${manifestPath(dir)} has schemaVersion ${String(m.schemaVersion)}; this lp-backfill reads ${MANIFEST_SCHEMA_VERSION}`,
      'Finish that run with the lp-backfill version that started it, or transform again into a new --out directory.',
    );
  }
  return m;
}

/** Only a lock holder writes the manifest; durably (temp, fsync, rename, fsync the directory). */
export async function saveManifest(lock: RunLock, m: Manifest, now: Date = new Date()): Promise<void> {
  m.updatedAt = now.toISOString();
  await writeJsonAtomic(manifestPath(lock.dir), m);
  // with --state-to the GCS copy is the truth: a save that loses the compare-and-swap stops here
  await lock.mirror?.save(m);
}

export function emptyManifest(now: Date): Manifest {
  return { schemaVersion: MANIFEST_SCHEMA_VERSION, runId: newRunId(now), createdAt: now.toISOString(), updatedAt: now.toISOString(), tool: { ...TOOL }, parts: [] };
}
