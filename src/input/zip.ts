import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { BackfillError } from '../errors.js';

/** Entry names read from an archive; everything else is listed as skipped. */
const READABLE = /\.(json|jsonl|ndjson|csv)(\.gz)?$/i;

export interface ZipListing {
  /** entries to read, in name order */
  entries: yauzl.Entry[];
  /** directories, macOS resource forks and names that are not .json/.jsonl/.csv(.gz) */
  skipped: string[];
  open(entry: yauzl.Entry): Promise<Readable>;
  close(): void;
}

const fail = (path: string, e: unknown) =>
  new BackfillError(
    'INPUT_MALFORMED',
    `"${path}" looks like a zip archive but cannot be read: ${(e as Error).message}`,
    'Check that the archive is complete (download it again), or unpack it and pass the files.',
    { cause: e },
  );

/**
 * The archive's central directory (the authoritative list, read from the end of the file; a zip
 * needs random access, so this takes a local path), sorted by entry name so a run is repeatable.
 * Entries are decompressed one at a time, as streams; yauzl checks each entry's size and CRC.
 */
export async function listZip(path: string): Promise<ZipListing> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (e, z) =>
      e ? reject(fail(path, e)) : resolve(z),
    ),
  );
  const all: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      all.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (e) => reject(fail(path, e)));
    zip.readEntry();
  });
  const entries: yauzl.Entry[] = [];
  const skipped: string[] = [];
  for (const e of all) {
    const base = e.fileName.split('/').pop() ?? '';
    const usable = !e.fileName.endsWith('/') && !e.fileName.startsWith('__MACOSX/') && !base.startsWith('._') && READABLE.test(e.fileName);
    if (usable) entries.push(e);
    else if (!e.fileName.endsWith('/')) skipped.push(e.fileName);
  }
  entries.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
  return {
    entries,
    skipped,
    open: (entry) =>
      new Promise<Readable>((resolve, reject) => {
        if (entry.isEncrypted())
          return reject(
            new BackfillError('INPUT_UNREADABLE', `"${path}:${entry.fileName}" is encrypted`, 'Unpack the archive with its password and pass the files.'),
          );
        zip.openReadStream(entry, (e, s) => (e ? reject(fail(path, e)) : resolve(s)));
      }),
    close: () => zip.close(),
  };
}
