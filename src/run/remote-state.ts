import type { Storage } from '@google-cloud/storage';
import { readJsonObject, writeJsonObjectIfGeneration } from '../gcs/json-object.js';
import { gsUrl, type ObjectRef } from '../gcs/storage.js';
import type { Manifest } from '../model/manifest.js';
import { BackfillError } from '../errors.js';
import { writeJsonAtomic } from '../files/json-file.js';
import { checkManifest, manifestPath } from './manifest.js';

/**
 * The run's manifest kept in GCS (--state-to), for batch engines whose local disk dies with the
 * task. Every save is a compare-and-swap on the object's generation, which is also the lock
 * between machines: of two tasks that read the same state, one saves, the other gets
 * STATE_CONFLICT, reads again and decides again. The local manifest.json is a copy of it.
 */
export class RemoteState {
  private constructor(
    private readonly storage: Storage,
    readonly ref: ObjectRef,
    private generation: string,
    private readonly dir: string,
  ) {}

  /** the manifest of the run as open() settled it (GCS's, else the local one pushed there): the caller goes on with this one */
  opened: Manifest | undefined;

  get url(): string {
    return gsUrl(this.ref);
  }

  /**
   * Opens the state: a manifest found in GCS replaces the local copy (GCS is the truth); a local
   * manifest with none in GCS yet is pushed there (a run that moves to --state-to midway).
   */
  static async open(storage: Storage, ref: ObjectRef, dir: string, local: Manifest | undefined): Promise<RemoteState> {
    const found = await readJsonObject<Manifest>(storage, ref);
    const state = new RemoteState(storage, ref, found.generation, dir);
    if (found.value !== undefined) {
      checkManifest(found.value, gsUrl(ref));
      if (local !== undefined && local.runId !== found.value.runId && local.parts.some((p) => p.upload || p.launch)) {
        throw new BackfillError(
          'STAGE_REFUSED',
          `${dir} holds run ${local.runId}, but ${gsUrl(ref)} holds run ${found.value.runId}`,
          'Use the --out directory and --state-to of one run together, or a new --out.',
        );
      }
      await writeJsonAtomic(manifestPath(dir), found.value);
      state.opened = found.value;
    } else if (local !== undefined) {
      await state.save(local);
      state.opened = local;
    }
    return state;
  }

  async save(m: Manifest): Promise<void> {
    this.generation = await writeJsonObjectIfGeneration(this.storage, this.ref, m, this.generation);
  }

  async reload(): Promise<Manifest> {
    const found = await readJsonObject<Manifest>(this.storage, this.ref);
    if (found.value === undefined)
      throw new BackfillError(
        'STATE_CONFLICT',
        `${this.url} disappeared while this run was using it`,
        'Someone deleted the state object; restore it from its generations, or start a new run.',
      );
    const m = checkManifest(found.value, this.url);
    this.generation = found.generation;
    await writeJsonAtomic(manifestPath(this.dir), m);
    return m;
  }
}

/** What a --state-to prefix holds: one run, or N shards. Written once; every run under it must agree. */
export interface StateLayout {
  shardCount: number | null;
  createdAt: string;
}

export const layoutObject = (bucket: string, prefix: string): ObjectRef => ({ bucket, name: `${prefix ? prefix + '/' : ''}layout.json` });

const describeLayout = (n: number | null) => (n === null ? 'one unsharded run' : `${n} shard${n === 1 ? '' : 's'}`);

/**
 * Binds a --state-to prefix to one shard count the first time it is used (create-if-absent), and
 * refuses another: a re-executed job with another task count, or an unsharded run on a sharded
 * prefix, would import the same users a second time.
 */
export async function claimLayout(storage: Storage, bucket: string, prefix: string, shardCount: number | null, now: Date): Promise<void> {
  const ref = layoutObject(bucket, prefix);
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await readJsonObject<StateLayout>(storage, ref);
    if (found.value !== undefined) {
      if (found.value.shardCount !== shardCount) {
        throw new BackfillError(
          'STAGE_REFUSED',
          `gs://${bucket}/${prefix} holds the state of a backfill made as ${describeLayout(found.value.shardCount)} (since ${found.value.createdAt}); this run is ${describeLayout(shardCount)}`,
          'Every run under one --state-to prefix must use the same --shard count: the same users in another layout would be imported twice. Use the original count, or a new --state-to prefix for a new backfill.',
        );
      }
      return;
    }
    try {
      await writeJsonObjectIfGeneration(storage, ref, { shardCount, createdAt: now.toISOString() } satisfies StateLayout, '0');
      return;
    } catch (e) {
      if (!(e instanceof BackfillError && e.code === 'STATE_CONFLICT')) throw e;
    }
  }
}

/** Where a run's state object lives: <prefix>/manifest.json, or per shard <prefix>/shard-<i>-of-<N>/manifest.json. */
export function stateObject(bucket: string, prefix: string, shard: { index: number; count: number } | undefined): ObjectRef {
  const folder = shard === undefined ? prefix : `${prefix ? prefix + '/' : ''}shard-${shard.index}-of-${shard.count}`;
  return { bucket, name: `${folder ? folder + '/' : ''}manifest.json` };
}

/** The --state-to prefix a state object lives under (a shard's folder taken off). */
export function statePrefixOf(ref: ObjectRef): { bucket: string; prefix: string } {
  return { bucket: ref.bucket, prefix: ref.name.replace(/(^|\/)(shard-\d+-of-\d+\/)?manifest\.json$/, '') };
}

export { parseStateObjectUrl } from '../gcs/url.js';
