import { open, stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BackfillError } from '../errors.js';

export interface InputSource {
  /** shown in reports: the path, or "-" for standard input */
  name: string;
  /** size on disk, when known (not for stdin) */
  bytes: number | undefined;
  stream: Readable;
}

export async function openInputFile(path: string): Promise<InputSource> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a regular file');
    // opened here, not by the stream: a permission error is then this function's to report, not
    // an 'error' event on a stream nobody listens to yet (which ends the process)
    const fh = await open(path, 'r');
    return { name: path, bytes: s.size, stream: fh.createReadStream({ highWaterMark: 1 << 18 }) };
  } catch (e) {
    throw new BackfillError('INPUT_UNREADABLE', `cannot read input "${path}": ${(e as Error).message}`, 'Check the path (use - to read standard input).', {
      cause: e,
    });
  }
}

/** Raw chunks, gunzipped when they start with the gzip magic bytes (files and stdin alike). */
export async function* decodedChunks(raw: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  const head = await it.next();
  if (head.done === true) return;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head.value as Buffer;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value;
    }
  }
  const first = head.value as Buffer;
  if (first[0] === 0x1f && first[1] === 0x8b) {
    // pipeline, not .pipe(): a read error of the source must end the gunzip stream with that
    // error, where .pipe() would leave it waiting for data that never comes.
    const gunzip = pipeline(Readable.from(rest()), createGunzip(), () => {});
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } catch (e) {
      if (e instanceof BackfillError) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (!code.startsWith('Z_')) {
        throw new BackfillError(
          'INPUT_UNREADABLE',
          `reading the input failed: ${(e as Error).message}`,
          'Check that the file is readable and complete, then run again.',
          { cause: e },
        );
      }
      throw new BackfillError(
        'INPUT_UNREADABLE',
        `the input looks gzip-compressed but cannot be decompressed: ${(e as Error).message}`,
        'Check that the .gz file is complete.',
        { cause: e },
      );
    } finally {
      gunzip.destroy();
    }
  } else {
    yield* rest();
  }
}
