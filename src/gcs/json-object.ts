import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../errors.js';
import { gsUrl, type ObjectRef } from './storage.js';
import { httpStatusOf } from './http-status.js';

/** A small JSON object and the generation it was read at (0: there is none). */
export interface Versioned<T> {
  value: T | undefined;
  generation: string;
}

/**
 * Reads a JSON object with its generation. Metadata and bytes are two requests: the generation is
 * read before and after, and a change in between (another writer) reads again.
 */
export async function readJsonObject<T>(storage: Storage, ref: ObjectRef): Promise<Versioned<T>> {
  const file = storage.bucket(ref.bucket).file(ref.name);
  for (let attempt = 0; attempt < 5; attempt++) {
    let before: string;
    try {
      before = String((await file.getMetadata())[0].generation);
    } catch (e) {
      if (httpStatusOf(e) === 404) return { value: undefined, generation: '0' };
      throw new BackfillError('GCS_FAILED', `reading ${gsUrl(ref)} failed: ${(e as Error).message}`, 'Check the bucket name and the Google credentials.', {
        cause: e,
      });
    }
    let text: string;
    try {
      text = (await file.download())[0].toString('utf8');
      const after = String((await file.getMetadata())[0].generation);
      if (after !== before) continue;
    } catch (e) {
      // gone, or replaced while the bytes came (the client's checksum no longer matches): read again
      if (httpStatusOf(e) === 404 || (e as { code?: unknown }).code === 'CONTENT_DOWNLOAD_MISMATCH') continue;
      throw new BackfillError('GCS_FAILED', `reading ${gsUrl(ref)} failed: ${(e as Error).message}`, 'Run the same command again.', { cause: e });
    }
    try {
      return { value: JSON.parse(text) as T, generation: before };
    } catch (e) {
      throw new BackfillError(
        'STAGE_REFUSED',
        `${gsUrl(ref)} is not valid JSON`,
        'The state object was edited or damaged; restore an earlier generation of it.',
        { cause: e },
      );
    }
  }
  throw new BackfillError('STATE_CONFLICT', `${gsUrl(ref)} keeps changing while being read`, "Another task is writing this run's state; wait for it.");
}

/**
 * Writes a JSON object only if it is still at `generation` ('0': only if it does not exist):
 * compare-and-swap, so of two writers that read the same state exactly one wins. The loser gets
 * STATE_CONFLICT and must read again and decide again.
 */
export async function writeJsonObjectIfGeneration(storage: Storage, ref: ObjectRef, value: unknown, generation: string): Promise<string> {
  const file = storage.bucket(ref.bucket).file(ref.name);
  try {
    await file.save(JSON.stringify(value, null, 2) + '\n', {
      resumable: false,
      validation: 'crc32c',
      preconditionOpts: { ifGenerationMatch: Number(generation) },
      metadata: { contentType: 'application/json' },
    });
  } catch (e) {
    if (httpStatusOf(e) === 412) {
      throw new BackfillError(
        'STATE_CONFLICT',
        `${gsUrl(ref)} was changed by another task since it was read (generation ${generation})`,
        'Another task works on the same run (the same shard?). Run again: it re-reads the state and decides again.',
        { cause: e },
      );
    }
    throw new BackfillError(
      'GCS_FAILED',
      `writing ${gsUrl(ref)} failed: ${(e as Error).message}`,
      'Run the same command again: it resumes from the last state saved.',
      { cause: e },
    );
  }
  return String(file.metadata.generation);
}
