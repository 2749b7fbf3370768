import { BackfillError } from '../errors.js';

export interface Target {
  bucket: string;
  prefix: string;
}

/** gs://bucket/prefix → {bucket, prefix}. Bucket names as GCS allows them (3–222 characters). */
export function parseGsUrl(url: string): Target {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new BackfillError('CONFIG_INVALID', `to: expected gs://<bucket>/<prefix>, found "${url}"`, 'Example: --to gs://my-leanplum-imports/backfills');
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

export const gsUrl = (o: { bucket: string; name: string }) => `gs://${o.bucket}/${o.name}`;

/** The state object a manifest names as its own (`stateUrl`: gs://…/manifest.json). Pure: loads no GCS client. */
export function parseStateObjectUrl(url: string): { bucket: string; name: string } {
  const m = /^gs:\/\/([^/]+)\/(.+\/)?manifest\.json$/.exec(url);
  if (!m)
    throw new BackfillError(
      'STAGE_REFUSED',
      `the manifest names its state as "${url}", which is not a gs://…/manifest.json URL`,
      'The manifest was edited or damaged; restore it.',
    );
  return { bucket: m[1]!, name: `${m[2] ?? ''}manifest.json` };
}
