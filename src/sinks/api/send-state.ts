import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../../errors.js';
import { sha256File } from '../../files/file-hash.js';
import { readJsonObject } from '../../gcs/json-object.js';
import { gsUrl, type ObjectRef } from '../../gcs/storage.js';
import type { Manifest } from '../../model/manifest.js';
import type { RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { loadManifest } from '../../run/manifest.js';
import { RemoteState } from '../../run/remote-state.js';
import { LedgerMirror } from './ledger-mirror.js';
import { LEDGER_FILE } from './send-ledger.js';
import { parseStateObjectUrl } from '../../gcs/url.js';

/**
 * `send <dir> --state-to gs://…` (or a run that recorded its state): the manifest is kept in GCS
 * (RemoteState, compare-and-swap on every save) and the send ledger beside it (LedgerMirror).
 *
 * A retried task on a new machine has a fresh transform in <dir> (its own run id): it may take the
 * run from GCS only if its clean parts are byte for byte the ones GCS names (sha256), so that the
 * batches, their reqIds and the ledger's hashes are the same; then the GCS manifest replaces the
 * local one and the mirrored ledger tells what was sent. A run directory that sent on its own
 * (a ledger of another run) is never taken over.
 */
export async function attachSendState(lock: RunLock, storage: Storage, ref: ObjectRef, log: Log, mirrorEveryMs?: number): Promise<LedgerMirror> {
  const dir = lock.dir;
  const local = await loadManifest(dir);
  const found = await readJsonObject<Manifest>(storage, ref);
  const remote = found.value;
  if (remote !== undefined && local === undefined) {
    throw new BackfillError(
      'STAGE_REFUSED',
      `${dir} holds no transform, and ${gsUrl(ref)} holds run ${remote.runId}: send needs its clean parts here`,
      `Transform the same inputs with the same options into ${dir} first (the parts are checked byte for byte against ${gsUrl(ref)}), or use \`lp-backfill run … --sink api --state-to …\`, which does both.`,
    );
  }
  if (remote !== undefined && local !== undefined && remote.runId !== local.runId) {
    const hasLedger = (await stat(join(dir, LEDGER_FILE)).catch(() => undefined)) !== undefined;
    if (hasLedger || local.sink !== undefined)
      throw new BackfillError(
        'STAGE_REFUSED',
        `${dir} holds run ${local.runId}, which has sent on its own, but ${gsUrl(ref)} holds run ${remote.runId}`,
        'Use the --out directory and --state-to of one run together, or a new --out.',
      );
    const differ = await differingParts(dir, local, remote);
    if (differ !== undefined)
      throw new BackfillError(
        'STAGE_REFUSED',
        `${dir} holds another transform than ${gsUrl(ref)} (run ${remote.runId}): ${differ}`,
        'The inputs, the options, the import time or the lp-backfill version differ from the first task. Transform exactly as the first task did (the same --import-at), or use a new --state-to for a new backfill.',
      );
    log(
      'state',
      { url: gsUrl(ref), runId: remote.runId },
      `state      ${dir}: the clean parts are those of run ${remote.runId} in ${gsUrl(ref)}; taking that run`,
    );
  }
  const state = await RemoteState.open(storage, ref, dir, local);
  lock.mirror = state;
  const mirror = LedgerMirror.beside(storage, ref, mirrorEveryMs);
  log('state', { url: state.url, ledger: mirror.url }, `state      ${state.url}, ledger ${mirror.url} (compare-and-swap)`);
  return mirror;
}

/** The ledger mirror of a run whose lock holds a GCS state (for callers that attached it themselves, e.g. `run --state-to`). */
export const sendMirrorFor = (lock: RunLock, storage: Storage): LedgerMirror | undefined =>
  lock.mirror === undefined ? undefined : LedgerMirror.beside(storage, parseStateObjectUrl(lock.mirror.url));

/** Which part (if any) of the local transform is not the one the remote manifest names. */
async function differingParts(dir: string, local: Manifest, remote: Manifest): Promise<string | undefined> {
  const names = new Set(await readdir(dir));
  if (local.parts.length !== remote.parts.length) return `${local.parts.length} clean part(s) here, ${remote.parts.length} there`;
  for (const p of remote.parts) {
    if (!names.has(p.file)) return `${p.file} is missing here`;
    if ((await sha256File(join(dir, p.file))) !== p.sha256) return `${p.file} differs (sha256)`;
  }
  return undefined;
}
