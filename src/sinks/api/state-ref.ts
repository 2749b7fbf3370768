import { BackfillError } from '../../errors.js';
import type { ObjectRef } from '../../gcs/storage.js';

/** The state object a manifest names as its own (`stateUrl`: gs://…/manifest.json). Pure; loads no GCS client. */
export function stateRefOf(url: string): ObjectRef {
  const m = /^gs:\/\/([^/]+)\/(.+\/)?manifest\.json$/.exec(url);
  if (!m)
    throw new BackfillError(
      'STAGE_REFUSED',
      `the manifest names its state as "${url}", which is not a gs://…/manifest.json URL`,
      'The manifest was edited or damaged; restore it.',
    );
  return { bucket: m[1]!, name: `${m[2] ?? ''}manifest.json` };
}
