import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { BackfillError } from '../../errors.js';

/** One row of the clean output: its global index (the order of clean.lines) and where it came from. */
export interface CleanRow {
  index: number;
  /** input unit (manifest transform.units) and line, from clean.lines */
  file: number;
  line: number;
  fields: string[];
}

const CHUNK_ROWS = 2048;

/** clean.lines read forward, 8 bytes a row. */
class LineIndexReader {
  private buf = Buffer.alloc(8 * CHUNK_ROWS * 4);
  private at = 0;
  private end = 0;
  private pos = 0;
  constructor(private readonly fh: FileHandle) {}

  async next(): Promise<{ file: number; line: number } | undefined> {
    if (this.at + 8 > this.end) {
      const rest = this.end - this.at;
      this.buf.copy(this.buf, 0, this.at, this.end);
      const { bytesRead } = await this.fh.read(this.buf, rest, this.buf.length - rest, this.pos);
      this.pos += bytesRead;
      this.at = 0;
      this.end = rest + bytesRead;
      if (this.end < 8) return undefined;
    }
    const r = { file: this.buf.readUInt32LE(this.at), line: this.buf.readUInt32LE(this.at + 4) };
    this.at += 8;
    return r;
  }
}

/**
 * The clean rows of a run directory, part after part, in chunks, with their source positions.
 * Every part must carry the same header; clean.lines must have exactly one entry per row.
 */
export async function* cleanRows(dir: string, parts: readonly string[], onHeader: (header: string[]) => void): AsyncGenerator<CleanRow[]> {
  const fh = await open(join(dir, 'clean.lines'), 'r');
  const lines = new LineIndexReader(fh);
  let index = 0;
  let header: string[] | undefined;
  try {
    for (const part of parts) {
      const parser = createReadStream(join(dir, part)).pipe(parse({ relax_column_count: true, bom: false }));
      let first = true;
      let chunk: CleanRow[] = [];
      for await (const fields of parser as AsyncIterable<string[]>) {
        if (first) {
          first = false;
          if (header === undefined) {
            header = fields;
            onHeader(fields);
          } else if (fields.join('\u0000') !== header.join('\u0000')) {
            throw new BackfillError('INPUT_MALFORMED', `${part} has another header than the first part`, 'The run directory was changed after the transform.');
          }
          continue;
        }
        const at = await lines.next();
        if (at === undefined) throw misaligned(dir, index);
        chunk.push({ index: index++, file: at.file, line: at.line, fields });
        if (chunk.length === CHUNK_ROWS) {
          yield chunk;
          chunk = [];
        }
      }
      if (chunk.length > 0) yield chunk;
    }
    if ((await lines.next()) !== undefined) throw misaligned(dir, index);
  } finally {
    await fh.close();
  }
}

const misaligned = (dir: string, rows: number) =>
  new BackfillError(
    'INPUT_MALFORMED',
    `${dir}/clean.lines does not have one entry per clean row (${rows} rows read)`,
    'The run directory was changed after the transform; transform again.',
  );
