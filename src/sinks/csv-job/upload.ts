import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../../errors.js';
import { uploadFile, type GcsOptions } from '../../gcs/storage.js';
import { gsUrl, type Target } from '../../gcs/url.js';
import type { Manifest } from '../../model/manifest.js';
import { sha256File } from '../../files/file-hash.js';
import type { RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { saveManifest } from '../../run/manifest.js';
import { advance } from '../../run/part-stage.js';

const SAFE_PREFIX = /^[A-Za-z0-9_\-/]*$/;

/**
 * Uploads every part not uploaded yet, with a check that each file is still the one the transform
 * committed. The caller (pipeline/run.ts) has asked the gates (mayUpload) on this manifest. Object
 * names carry the run id and a random token fixed at the first upload: unguessable, and the same
 * on resume.
 */
export async function uploadStage(
  lock: RunLock,
  man: Manifest,
  target: Target,
  storage: Storage,
  gcs: GcsOptions,
  log: Log,
  now: () => Date,
): Promise<Manifest> {
  const dir = lock.dir;
  if (!SAFE_PREFIX.test(target.prefix)) {
    throw new BackfillError(
      'CONFIG_INVALID',
      `prefix "${target.prefix}" has characters Leanplum's importer may not accept`,
      'Use letters, digits, _, - and / only.',
    );
  }
  const targetWasSet = man.target !== undefined;
  man.target ??= { ...target, token: randomBytes(8).toString('hex') };
  man.sink ??= 'csv-job';
  const folder = `${man.target.prefix ? man.target.prefix + '/' : ''}${man.runId}-${man.target.token}`;
  for (const part of man.parts) {
    part.bucket = man.target.bucket;
    part.object ??= `${folder}/${part.file}`;
    if (part.upload) continue;
    const path = join(dir, part.file);
    const sha = await sha256File(path);
    if (sha !== part.sha256) {
      throw new BackfillError(
        'STAGE_REFUSED',
        `${path} is not the file the transform wrote (sha256 ${sha.slice(0, 12)}…, expected ${part.sha256.slice(0, 12)}…)`,
        `Something changed it after the transform. Transform again into ${dir}, then upload.`,
      );
    }
    // the name is saved before the bytes move, so a rerun after a crash targets the same object
    await saveManifest(lock, man, now());
    const ref = { bucket: part.bucket, name: part.object };
    log('upload', { file: part.file, to: gsUrl(ref) }, `upload     ${part.file} → ${gsUrl(ref)}`);
    const r = await uploadFile(storage, path, ref, gcs);
    advance(part, 'upload');
    part.upload = { at: now().toISOString(), outcome: r.status, crc32c: r.crc32c, size: r.size, generation: r.generation };
    await saveManifest(lock, man, now());
    log(
      'uploaded',
      { file: part.file, outcome: r.status, crc32c: r.crc32c },
      `           ${r.status === 'uploaded' ? 'uploaded' : 'already there (same crc32c)'}, ${r.size} bytes, crc32c ${r.crc32c}`,
    );
  }
  // each upload was saved as it ended; a resume with nothing to send writes nothing (and with the
  // state in GCS, does not bump it under another task's feet)
  if (!targetWasSet) await saveManifest(lock, man, now());
  return man;
}
