import { CRC32C, Storage } from '@google-cloud/storage';
import { BackfillError } from '../errors.js';
import { gsUrl } from './url.js';
import { httpStatusOf } from './http-status.js';

export interface GcsOptions {
  /** an emulator or private endpoint; default: Google's, with Application Default Credentials */
  apiEndpoint?: string | undefined;
  projectId?: string | undefined;
  /** resumable chunk size in bytes (a multiple of 256 KiB); default: one streamed request */
  chunkSize?: number | undefined;
  /** give up on a retried call after this many seconds */
  totalTimeoutSeconds?: number | undefined;
}

export interface ObjectRef {
  bucket: string;
  name: string;
}

export { gsUrl } from './url.js';

export function makeStorage(o: GcsOptions): Storage {
  return new Storage({
    ...(o.apiEndpoint ? { apiEndpoint: o.apiEndpoint } : {}),
    ...(o.projectId ? { projectId: o.projectId } : {}),
    retryOptions: { autoRetry: true, maxRetries: 3, retryDelayMultiplier: 2, maxRetryDelay: 8, totalTimeout: o.totalTimeoutSeconds ?? 120 },
  });
}

/** crc32c of a local file, base64 as GCS reports it. */
export async function fileCrc32c(path: string): Promise<string> {
  return (await CRC32C.fromFile(path)).toString();
}

function gcsFailure(what: string, ref: ObjectRef, e: unknown): BackfillError {
  const code = httpStatusOf(e);
  const hint =
    code === 401 || code === 403
      ? 'Check the Google account: gcloud auth application-default login, and that it may write to the bucket.'
      : code === 404
        ? 'Check the bucket name (--to gs://<bucket>/<prefix>).'
        : 'Run the same command again: finished parts are not repeated. For an emulator, check STORAGE_EMULATOR_HOST.';
  return new BackfillError('GCS_FAILED', `${what} ${gsUrl(ref)} failed: ${(e as Error).message}`, hint, { cause: e });
}

export type UploadOutcome = { status: 'uploaded' | 'already-there'; crc32c: string; size: number; generation: string };

/**
 * Resumable, crc32c-validated upload that can never overwrite: ifGenerationMatch=0. When the
 * object is already there, the same crc32c means an earlier run finished it; another one is refused.
 */
export async function uploadFile(storage: Storage, localPath: string, ref: ObjectRef, o: GcsOptions = {}): Promise<UploadOutcome> {
  const local = await fileCrc32c(localPath);
  const file = storage.bucket(ref.bucket).file(ref.name);
  try {
    const [f] = await storage.bucket(ref.bucket).upload(localPath, {
      destination: ref.name,
      resumable: true,
      validation: 'crc32c',
      preconditionOpts: { ifGenerationMatch: 0 },
      metadata: { contentType: 'text/csv; charset=utf-8' },
      ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
    });
    const meta = f.metadata;
    return { status: 'uploaded', crc32c: String(meta.crc32c ?? local), size: Number(meta.size), generation: String(meta.generation) };
  } catch (e) {
    if (httpStatusOf(e) !== 412) throw gcsFailure('upload to', ref, e);
  }
  let meta: { crc32c?: string; size?: string | number; generation?: string | number };
  try {
    [meta] = await file.getMetadata();
  } catch (e) {
    throw gcsFailure('reading the metadata of', ref, e);
  }
  if (meta.crc32c !== local) {
    throw new BackfillError(
      'GCS_FAILED',
      `${gsUrl(ref)} already exists with different content (crc32c ${meta.crc32c}, this file ${local}); refusing to overwrite it`,
      'Another file already took this name. Use another --prefix, or delete that object if you are sure it is stale.',
    );
  }
  return { status: 'already-there', crc32c: local, size: Number(meta.size), generation: String(meta.generation) };
}

/** Public read for Leanplum's importer, as its docs ask: only while the job runs. */
export async function setPublicRead(storage: Storage, ref: ObjectRef, on: boolean): Promise<void> {
  const file = storage.bucket(ref.bucket).file(ref.name);
  try {
    if (on) await file.acl.add({ entity: 'allUsers', role: 'READER' });
    else await file.acl.delete({ entity: 'allUsers' });
  } catch (e) {
    // revoking what is already gone is done
    if (!on && httpStatusOf(e) === 404) return;
    throw gcsFailure(on ? 'making public' : 'revoking public access to', ref, e);
  }
}

export async function deleteObject(storage: Storage, ref: ObjectRef): Promise<void> {
  try {
    await storage.bucket(ref.bucket).file(ref.name).delete({ ignoreNotFound: true });
  } catch (e) {
    throw gcsFailure('deleting', ref, e);
  }
}
