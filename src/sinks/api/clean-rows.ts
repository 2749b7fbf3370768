import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { BackfillError } from '../../errors.js';

/** One row of the clean output: its global index (the order of clean.lines) and where it came from. */
export interface CleanRow {
  index: number;
  /** input unit (manifest transform.units) and line, from clean.lines */
  file: number;
  line: number;
  fields: string[];
}

/** clean.lines read forward, 8 bytes a row, a block at a time. */
class LineIndexReader {
  private pos = 0;
  constructor(private readonly fh: FileHandle) {}

  /** The origins of the next `n` rows (fewer when the file ends). */
  async next(n: number): Promise<Uint32Array> {
    const buf = Buffer.alloc(n * 8);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.fh.read(buf, got, buf.length - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.pos += got;
    return new Uint32Array(buf.buffer, buf.byteOffset, Math.floor(got / 8) * 2);
  }
}

/**
 * RFC 4180 records of a text that may end mid-record: the complete records, and where the
 * unfinished rest starts. The clean CSV is lp-backfill's own (quotes only around fields holding
 * `,` `"` CR or LF, LF line ends), so most lines have no quote at all and are split on commas.
 */
export function splitRecords(text: string, final: boolean): { records: string[][]; rest: number } {
  const records: string[][] = [];
  let i = 0;
  let quote = text.indexOf('"');
  while (i < text.length) {
    const nl = text.indexOf('\n', i);
    if (quote !== -1 && quote < i) quote = text.indexOf('"', i);
    if (quote === -1 || (nl !== -1 && quote > nl)) {
      if (nl === -1) {
        if (!final) break;
        records.push(text.slice(i).split(','));
        i = text.length;
        break;
      }
      records.push(text.slice(i, nl).split(','));
      i = nl + 1;
      continue;
    }
    const r = quotedRecord(text, i, final);
    if (r === undefined) break;
    records.push(r.fields);
    i = r.end;
  }
  return { records, rest: i };
}

/** One record holding quotes, from `i`; undefined when the text ends inside it (more is coming). */
function quotedRecord(text: string, i: number, final: boolean): { fields: string[]; end: number } | undefined {
  const fields: string[] = [];
  let field = '';
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      // a quoted field: up to the quote not doubled
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) return undefined;
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          field += '"';
          i = q + 2;
        } else {
          if (q + 1 >= text.length && !final) return undefined;
          i = q + 1;
          break;
        }
      }
    }
    // the plain rest of the field
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 44 || c === 10) break;
      j++;
    }
    field += text.slice(i, j);
    fields.push(field);
    field = '';
    if (j >= text.length) {
      if (!final) return undefined;
      return { fields, end: j };
    }
    if (text.charCodeAt(j) === 10) return { fields, end: j + 1 };
    i = j + 1;
  }
}

/**
 * The clean rows of a run directory, part after part, in chunks, with their source positions.
 * Every part must carry the same header; clean.lines must have exactly one entry per row.
 */
export async function* cleanRows(
  dir: string,
  parts: readonly string[],
  onHeader: (header: string[]) => void,
  o: { chunkBytes?: number } = {},
): AsyncGenerator<CleanRow[]> {
  const fh = await open(join(dir, 'clean.lines'), 'r');
  const lines = new LineIndexReader(fh);
  let index = 0;
  let header: string[] | undefined;
  try {
    for (const part of parts) {
      const decoder = new StringDecoder('utf8');
      let carry = '';
      let first = true;
      const stream = createReadStream(join(dir, part), { highWaterMark: o.chunkBytes ?? 1 << 18 });
      const take = async (records: string[][]): Promise<CleanRow[]> => {
        if (first && records.length > 0) {
          first = false;
          const h = records.shift()!;
          if (header === undefined) {
            header = h;
            onHeader(h);
          } else if (h.join('\u0000') !== header.join('\u0000')) {
            throw new BackfillError('INPUT_MALFORMED', `${part} has another header than the first part`, 'The run directory was changed after the transform.');
          }
        }
        const at = await lines.next(records.length);
        if (at.length !== records.length * 2) throw misaligned(dir, index + at.length / 2);
        return records.map((fields, k) => ({ index: index++, file: at[2 * k]!, line: at[2 * k + 1]!, fields }));
      };
      for await (const buf of stream as AsyncIterable<Buffer>) {
        const text = carry + decoder.write(buf);
        const { records, rest } = splitRecords(text, false);
        carry = text.slice(rest);
        const rows = await take(records);
        if (rows.length > 0) yield rows;
      }
      const text = carry + decoder.end();
      const rows = await take(splitRecords(text, true).records);
      if (rows.length > 0) yield rows;
    }
    if ((await lines.next(1)).length !== 0) throw misaligned(dir, index);
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
