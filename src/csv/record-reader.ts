import { Parser } from 'csv-parse';
import { BackfillError } from '../errors.js';
import { sniffDelimiter } from './sniff.js';

/** csv-parse's push-based core, reached through the stream parser it backs. */
interface ParserCore {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
}

export type OnRecord = (fields: string[], line: number) => void;

export interface RecordReaderOptions {
  /** forced delimiter; sniffed from the first line otherwise */
  delimiter?: string | undefined;
  /** largest record accepted, in bytes (0: no limit); bounds memory when a quote is never closed */
  maxRecordBytes?: number | undefined;
  /** the input's name, for messages */
  name?: string | undefined;
}

/**
 * Feeds bytes to csv-parse and hands each record over with the physical line it starts on.
 * It calls csv-parse's core directly instead of piping its stream: one object-mode hop per
 * record cost more than the whole row rule set. Line numbers are counted from the line breaks
 * inside each record rather than with csv-parse's `info` option, which is 3× slower.
 */
export class RecordReader {
  private core: ParserCore | undefined;
  private head: Buffer[] = [];
  private nextLine = 1;
  delimiter: string | undefined;
  /**
   * Records handed to the callback. Counted here, apart from the row step's own counts, so the
   * conservation check compares two independent numbers.
   */
  records = 0;
  /** records to hand over at most; the rest of the input is parsed but not delivered (--sample) */
  limit = Infinity;

  constructor(
    private readonly onRecord: OnRecord,
    private readonly opts: RecordReaderOptions = {},
  ) {}

  private start(sample: Buffer): void {
    const text = sample.toString('utf8').replace(/^\uFEFF/, '');
    const firstLine = text.split(/\r?\n|\r/, 1)[0] ?? '';
    this.delimiter = this.opts.delimiter ?? sniffDelimiter(firstLine);
    const parser = new Parser({
      bom: true,
      delimiter: this.delimiter,
      relax_column_count: true,
      relax_quotes: true,
      // Exports glued together from several systems mix line endings.
      record_delimiter: ['\r\n', '\n', '\r'],
      // Without a cap, one unclosed quote makes the rest of the file a single field in memory.
      max_record_size: this.opts.maxRecordBytes ?? 0,
    });
    this.core = (parser as unknown as { api: ParserCore }).api;
  }

  private emit = (record: string[]): void => {
    if (this.records >= this.limit) return;
    this.records++;
    const line = this.nextLine;
    let breaks = 0;
    for (let i = 0; i < record.length; i++) {
      const f = record[i]!;
      if (f.length > 0 && (f.includes('\n') || f.includes('\r'))) breaks += countBreaks(f);
    }
    this.nextLine = line + 1 + breaks;
    this.onRecord(record, line);
  };

  write(chunk: Buffer): void {
    if (this.core === undefined) {
      this.head.push(chunk);
      const all = Buffer.concat(this.head);
      if (!/[\r\n]/.test(all.toString('latin1')) && all.length < 1 << 20) return;
      this.head = [];
      this.start(all);
      this.feed(all, false);
      return;
    }
    this.feed(chunk, false);
  }

  end(): void {
    if (this.core === undefined) {
      const all = Buffer.concat(this.head);
      this.start(all);
      this.feed(all, false);
    }
    this.feed(undefined, true);
  }

  private feed(buf: Buffer | undefined, end: boolean): void {
    const err = this.core!.parse(buf, end, this.emit, () => {});
    if (err === undefined) return;
    const where = this.opts.name === undefined ? 'the input' : `"${this.opts.name}"`;
    // nextLine is where the record being parsed started: the line to look at, not where parsing gave up
    if ((err as { code?: string }).code === 'CSV_MAX_RECORD_SIZE') {
      const max = this.opts.maxRecordBytes!;
      throw new BackfillError(
        'INPUT_MALFORMED',
        `${where}: the record starting on line ${this.nextLine} is larger than --max-record-bytes ${max} (${formatBytes(max)}); most likely a quote opened on line ${this.nextLine} is never closed`,
        `Close the quote on line ${this.nextLine} (or remove that row), or, if records really are this large, raise --max-record-bytes. Nothing was written past this point.`,
        { cause: err },
      );
    }
    throw new BackfillError(
      'INPUT_MALFORMED',
      `${where} is not valid CSV near line ${this.nextLine}: ${err.message}`,
      'Usually an opening quote without its closing quote. Fix that row (or remove it) and run again; nothing was written past this point.',
      { cause: err },
    );
  }
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${+(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

function countBreaks(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13 && s.charCodeAt(i + 1) !== 10) n++;
  }
  return n;
}

/** The first record (the header) of a source, read from its first bytes only. */
export async function readHeaderRecord(chunks: AsyncIterable<Buffer>, opts: RecordReaderOptions = {}): Promise<string[] | undefined> {
  let header: string[] | undefined;
  const reader = new RecordReader((fields) => {
    header ??= fields;
  }, opts);
  for await (const chunk of chunks) {
    reader.write(chunk);
    if (header !== undefined) return header;
  }
  reader.end();
  return header;
}
