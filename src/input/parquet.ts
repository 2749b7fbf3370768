import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type ParquetRow } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { BackfillError } from '../errors.js';

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
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
    } catch (e) {
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
