import type { Storage } from '@google-cloud/storage';
import { setPublicRead } from '../../gcs/storage.js';
import { gsUrl } from '../../gcs/url.js';
import type { Manifest, PartState } from '../../model/manifest.js';
import type { RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { saveManifest } from '../../run/manifest.js';

/** --public-while-importing: the object is public from just before the launch… */
export async function openPublic(lock: RunLock, m: Manifest, part: PartState, storage: Storage, log: Log, now: () => Date): Promise<void> {
  if (part.public && !part.public.until) return;
  const ref = { bucket: part.bucket!, name: part.object! };
  await setPublicRead(storage, ref, true);
  part.public = { since: now().toISOString() };
  await saveManifest(lock, m, now());
  log('public', { file: part.file }, `public     ${gsUrl(ref)} is publicly readable until the job ends`);
}

/** …until its job has ended (or the launch was refused); the exposure is recorded. */
export async function revokePublic(lock: RunLock, m: Manifest, part: PartState, storage: Storage | undefined, log: Log, now: () => Date): Promise<void> {
  if (!part.public || part.public.until || !storage || !part.bucket || !part.object) return;
  await setPublicRead(storage, { bucket: part.bucket, name: part.object }, false);
  const until = now();
  part.public.until = until.toISOString();
  part.public.exposedSeconds = Math.round((until.getTime() - Date.parse(part.public.since)) / 1000);
  await saveManifest(lock, m, until);
  log('revoked', { file: part.file, exposedSeconds: part.public.exposedSeconds }, `private    public access revoked after ${part.public.exposedSeconds}s`);
}
