import { Readable } from 'node:stream';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../errors.js';
import { gsUrl } from './url.js';
import { httpStatusOf } from './http-status.js';

/** One object an input pattern matched, as listed: reading pins this generation. */
export interface GsObject {
  bucket: string;
  name: string;
  generation: string;
  /** base64, as GCS reports it */
  crc32c: string;
  size: number;
}

const URL = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])\/?(.*)$/;

export const isGsUrl = (s: string): boolean => s.startsWith('gs://');

/** A glob over object names: `*` and `?` stay inside one path segment, `**` crosses them. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** gs://bucket/path with wildcards → bucket, the listing prefix (before the first wildcard) and the pattern. */
export function parseInputUrl(url: string): { bucket: string; prefix: string; pattern: RegExp | undefined; path: string } {
  const m = URL.exec(url);
  if (!m)
    throw new BackfillError(
      'CONFIG_INVALID',
      `input: expected gs://<bucket>/<object, prefix or pattern>, found "${url}"`,
      'Example: gs://my-exports/amplitude/2024-*.json.gz',
    );
  const path = m[2]!;
  const wild = path.search(/[*?]/);
  return { bucket: m[1]!, path, prefix: wild === -1 ? path : path.slice(0, wild), pattern: wild === -1 ? undefined : globToRegExp(path) };
}

export function readFailure(what: string, e: unknown): BackfillError {
  const code = httpStatusOf(e);
  const hint =
    code === 401 || code === 403
      ? 'Check the Google account: gcloud auth application-default login, and that it may read the bucket.'
      : code === 404
        ? 'Check the bucket and object names. An object replaced while the run read it is refused too: run again.'
        : 'Run the same command again. For an emulator, check STORAGE_EMULATOR_HOST.';
  return new BackfillError('GCS_FAILED', `${what} failed: ${(e as Error).message}`, hint, { cause: e });
}

/**
 * The objects an input names, in name order: with a wildcard, those whose names match it (listed
 * from the prefix before the wildcard); without, the object itself if it exists, else everything
 * under it as a prefix (a "folder"). Placeholder objects ending in / are left out.
 */
export async function listInputObjects(storage: Storage, url: string): Promise<GsObject[]> {
  const { bucket, prefix, pattern, path } = parseInputUrl(url);
  const list = async (p: string) => {
    try {
      const [files] = await storage.bucket(bucket).getFiles({ prefix: p, autoPaginate: true });
      return files.map((f) => ({
        bucket,
        name: f.name,
        generation: String(f.metadata.generation ?? ''),
        crc32c: String(f.metadata.crc32c ?? ''),
        size: Number(f.metadata.size ?? 0),
      }));
    } catch (e) {
      throw readFailure(`listing gs://${bucket}/${p}*`, e);
    }
  };
  let found: GsObject[];
  if (pattern !== undefined) found = (await list(prefix)).filter((o) => pattern.test(o.name));
  else {
    const all = await list(path);
    const exact = all.filter((o) => o.name === path);
    found = exact.length > 0 ? exact : all.filter((o) => path === '' || path.endsWith('/') || o.name.startsWith(`${path}/`));
  }
  found = found.filter((o) => !o.name.endsWith('/')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (found.length === 0) {
    throw new BackfillError(
      'INPUT_UNREADABLE',
      `no object in gs://${bucket} matches "${url}"`,
      'Check the path (gs://bucket/prefix/, gs://bucket/path/*.json.gz; * stays within one /-segment, ** crosses them).',
    );
  }
  return found;
}

/**
 * The object's stored bytes (not transcoded: gzip is recognised by its bytes here), of exactly the
 * listed generation; the client checks them against the object's crc32c.
 */
export function openObject(storage: Storage, o: GsObject): Readable {
  const stream = storage
    .bucket(o.bucket)
    .file(o.name, o.generation !== '' ? { generation: o.generation } : {})
    .createReadStream({ validation: 'crc32c', decompress: false });
  const out = stream as Readable;
  // errors surface to whoever reads, as a BackfillError with the object's name
  const wrapped = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const c of out as AsyncIterable<Buffer>) yield c;
    } catch (e) {
      throw e instanceof BackfillError ? e : readFailure(`reading ${gsUrl(o)} (generation ${o.generation})`, e);
    }
  };
  return Readable.from(wrapped(), { objectMode: false });
}
