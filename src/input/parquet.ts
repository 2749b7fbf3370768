import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type ParquetRow } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { BackfillError } from '../errors.js';

/** A string column value whose bytes are not UTF-8 (Parquet STRING is UTF-8 by its spec). */
class NotUtf8 extends Error {
  constructor(readonly bytes: Uint8Array) {
    super('not UTF-8');
  }
}

const fatal = new TextDecoder('utf-8', { fatal: true });
const hex = (bytes: Uint8Array) => Array.from(bytes.subarray(0, 24), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

/**
 * hyparquet decodes strings with a replacing TextDecoder: `Jos\xE9` and `Jos\xE8` would both
 * become `Jos\uFFFD` (two users merged). Strings are decoded strictly here instead.
 */
const parsers = {
  stringFromBytes(bytes: Uint8Array | undefined): string | undefined {
    if (bytes === undefined) return undefined;
    try {
      return fatal.decode(bytes);
    } catch {
      throw new NotUtf8(bytes);
    }
  },
};

export interface RowGroupRows {
  rows: ParquetRow[];
  /** 1-based number of the first row in the file: rejects name rows by it */
  firstRow: number;
}

/**
 * A Parquet file, one row group at a time (memory is bounded by the largest row group), as plain
 * objects: nested lists and structs as arrays and objects, INT64 as bigint (exact), timestamps as
 * Date. snappy, gzip, zstd and brotli pages are decompressed by hyparquet-compressors.
 */
export async function* parquetRowGroups(path: string, name: string): AsyncGenerator<RowGroupRows> {
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `"${name}" starts like a Parquet file but its footer cannot be read: ${(e as Error).message}`,
      'Check that the file is complete (export or download it again).',
      { cause: e },
    );
  }
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: ParquetRow[];
    try {
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors, parsers });
    } catch (e) {
      if (e instanceof NotUtf8)
        throw new BackfillError(
          'INPUT_MALFORMED',
          `"${name}": rows ${rowStart + 1}–${rowEnd} (one row group) hold a string that is not valid UTF-8: bytes ${hex(e.bytes)}`,
          'Parquet strings must be UTF-8: write the file again with its text columns converted (e.g. from windows-1252). No byte is ever replaced.',
          { cause: e },
        );
      throw new BackfillError(
        'INPUT_MALFORMED',
        `"${name}": rows ${rowStart + 1}–${rowEnd} (one row group) cannot be decoded: ${(e as Error).message}`,
        'Check that the file is complete; a codec other than snappy, gzip, zstd or brotli is not supported.',
        { cause: e },
      );
    }
    yield { rows, firstRow: rowStart + 1 };
    rowStart = rowEnd;
  }
}
