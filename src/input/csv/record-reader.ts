import type { Parser } from 'csv-parse';
import { createRequire } from 'node:module';
import { BackfillError } from '../../errors.js';
import { shown } from '../shown.js';
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
  /**
   * Split quote-free lines on the delimiter byte instead of csv-parse's per-byte state machine
   * (issue 11). Records, line numbers and errors are the same as without it (a differential
   * property test holds the two together); false (`LP_BACKFILL_EXACT=1`) reads every byte with csv-parse.
   */
  fastPath?: boolean | undefined;
}

const LF = 10;
const CR = 13;
const QUOTE = 34;

let csvParse: typeof Parser | undefined;
/**
 * csv-parse, loaded (synchronously, its CommonJS build) when a record first needs it: a quote the
 * fast path cannot split, or `LP_BACKFILL_EXACT=1`. Its modules cost ~12 ms of every start otherwise.
 */
function parserClass(): typeof Parser {
  csvParse ??= (createRequire(import.meta.url)('csv-parse') as { Parser: typeof Parser }).Parser;
  return csvParse;
}

function csvParser(delimiter: string, maxRecordBytes: number, bom: boolean): ParserCore & { info: { lines: number } } {
  const parser = new (parserClass())({
    bom,
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    // Exports glued together from several systems mix line endings.
    record_delimiter: ['\r\n', '\n', '\r'],
    // Without a cap, one unclosed quote makes the rest of the file a single field in memory.
    max_record_size: maxRecordBytes,
  });
  return (parser as unknown as { api: ParserCore & { info: { lines: number } } }).api;
}

/**
 * Feeds bytes to csv-parse and hands each record over with the physical line it starts on.
 * It calls csv-parse's core directly instead of piping its stream: one object-mode hop per
 * record cost more than the whole row rule set. Line numbers are counted from the line breaks
 * inside each record rather than with csv-parse's `info` option, which is 3× slower.
 */
export class RecordReader {
  private core: ParserCore | undefined;
  /** fast path: the delimiter byte (-1: every byte goes to csv-parse, `core`) */
  private delimByte = -1;
  /** fast path: bytes of a line not yet complete */
  private carry: Buffer | undefined;
  private bomChecked = false;
  /** fast path: the csv-parse core that reads quoted regions, reused while each region ends cleanly */
  private regionCore: (ParserCore & { info: { lines: number } }) | undefined;
  /** fast path: the physical line the next record starts on, counted as csv-parse counts (also past --sample) */
  private physLine = 1;
  private started = false;
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
    const d = this.delimiter;
    const c = d.length === 1 ? d.charCodeAt(0) : -1;
    // the fast split covers a one-byte ASCII delimiter that is not a quote or a line break
    if (this.opts.fastPath === true && c > 0 && c < 128 && c !== QUOTE && c !== LF && c !== CR) this.delimByte = c;
    else this.core = csvParser(d, this.opts.maxRecordBytes ?? 0, true);
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
    if (!this.started) {
      this.head.push(chunk);
      const all = Buffer.concat(this.head);
      if (!/[\r\n]/.test(all.toString('latin1')) && all.length < 1 << 20) return;
      this.head = [];
      this.started = true;
      this.start(all);
      this.feed(all, false);
      return;
    }
    this.feed(chunk, false);
  }

  end(): void {
    if (!this.started) {
      const all = Buffer.concat(this.head);
      this.started = true;
      this.start(all);
      this.feed(all, false);
    }
    this.feed(undefined, true);
  }

  private feed(buf: Buffer | undefined, end: boolean): void {
    if (this.core === undefined) this.feedFast(buf, end);
    else this.feedCore(this.core, buf, end);
  }

  /**
   * Fast path: complete lines without a quote byte are split on the delimiter byte here, and so are
   * lines whose quotes all wrap whole fields without inner quotes (`"a, b"`). Any other quote starts
   * a region that csv-parse reads on its own (from a record boundary, with end-of-input, to the
   * first line end where no quote is left open); anything this cannot settle
   * (a record over --max-record-bytes, a UTF-16 BOM, a quote still open after a few lines) hands
   * the rest of the input, from the start of that record, to one csv-parse core, as without the
   * fast path. csv-parse is told the line it starts on, so its messages name the same lines.
   */
  private feedFast(chunk: Buffer | undefined, end: boolean): void {
    let buf: Buffer;
    if (this.carry === undefined) buf = chunk ?? EMPTY;
    else buf = chunk === undefined ? this.carry : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    let i = 0;
    const len = buf.length;
    if (!this.bomChecked) {
      if (len < 3 && !end) {
        this.carry = buf;
        return;
      }
      this.bomChecked = true;
      if (len >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) return this.toCore(buf, 0, end, true);
      if (len >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
    }
    const max = this.opts.maxRecordBytes ?? 0;
    const d = this.delimByte;
    let nextQuote = buf.indexOf(QUOTE, i);
    if (nextQuote < 0) nextQuote = len;
    let nextCr = buf.indexOf(CR, i);
    if (nextCr < 0) nextCr = len;
    while (i < len) {
      let nl = buf.indexOf(LF, i);
      if (nl < 0) nl = len;
      if (nextCr < i) {
        nextCr = buf.indexOf(CR, i);
        if (nextCr < 0) nextCr = len;
      }
      // the line [i, e) and its terminator [e, next)
      const e = Math.min(nl, nextCr);
      let next: number;
      if (e === len) {
        if (!end) break;
        next = len;
      } else if (buf[e] === LF) next = e + 1;
      else if (e + 1 < len) next = buf[e + 1] === LF ? e + 2 : e + 1;
      else if (end) next = e + 1;
      else break; // a CR at the end of the bytes so far: CRLF or CR decides on the next byte
      if (nextQuote < i) {
        nextQuote = buf.indexOf(QUOTE, i);
        if (nextQuote < 0) nextQuote = len;
      }
      if (max !== 0 && e - i > max) return this.toCore(buf, i, end, false);
      let record: string[] | undefined;
      if (nextQuote >= e) {
        record = [];
        let s = i;
        for (let k = buf.indexOf(d, s); k >= 0 && k < e; k = buf.indexOf(d, s)) {
          record.push(buf.toString('utf8', s, k));
          s = k + 1;
        }
        record.push(buf.toString('utf8', s, e));
      } else record = splitQuoted(buf, i, e, d);
      if (record === undefined) {
        // a quote this cannot read: csv-parse reads lines from here until its record ends with a line
        const settled = this.region(buf, i, next, end);
        if (settled === 'core') return this.toCore(buf, i, end, false);
        if (settled === 'more') break;
        i = settled;
        continue;
      }
      this.physLine++;
      // past --sample the exact path stops counting lines too
      if (this.records < this.limit) {
        this.records++;
        this.onRecord(record, this.nextLine++);
      }
      i = next;
    }
    // a line (or a quoted record) still open after this many bytes is left to csv-parse, which caps it
    if (len - i > CARRY_MAX) return this.toCore(buf, i, end, false);
    if (i < len) this.carry = Buffer.from(buf.subarray(i));
  }

  /**
   * csv-parse on its own over the lines from `start` (a record boundary) on: the line end where
   * its records end, 'more' when the bytes so far end inside a quote, 'core' when it cannot be
   * settled here.
   */
  private region(buf: Buffer, start: number, first: number, end: boolean): number | 'more' | 'core' {
    const len = buf.length;
    let stop = first;
    for (let lines = 0; lines < REGION_LINES; lines++) {
      // a core that ended cleanly is back in its initial state (its input always came with end=true)
      const core = (this.regionCore ??= csvParser(this.delimiter!, this.opts.maxRecordBytes ?? 0, false));
      core.info.lines = this.physLine;
      const records: string[][] = [];
      const err = core.parse(
        buf.subarray(start, stop),
        true,
        (r) => records.push(r),
        () => {},
      );
      if (err !== undefined) this.regionCore = undefined;
      else {
        for (const r of records) this.emit(r);
        this.physLine = core.info.lines;
        return stop;
      }
      if ((err as { code?: string }).code !== 'CSV_QUOTE_NOT_CLOSED') return 'core';
      // one line further, once its end is known
      if (stop >= len) return end ? 'core' : 'more';
      let e = stop;
      while (e < len && buf[e] !== LF && buf[e] !== CR) e++;
      if (e === len) {
        if (!end) return 'more';
        stop = len;
      } else if (buf[e] === LF) stop = e + 1;
      else if (e + 1 < len) stop = buf[e + 1] === LF ? e + 2 : e + 1;
      else if (end) stop = e + 1;
      else return 'more';
    }
    return 'core';
  }

  /** From `at` (a record boundary) on, every byte goes to one csv-parse core, as without the fast path. */
  private toCore(buf: Buffer, at: number, end: boolean, bom: boolean): void {
    const core = csvParser(this.delimiter!, this.opts.maxRecordBytes ?? 0, bom);
    core.info.lines = this.physLine;
    this.core = core;
    this.feedCore(core, buf.subarray(at), end);
  }

  private feedCore(core: ParserCore, buf: Buffer | undefined, end: boolean): void {
    const err = core.parse(buf, end, this.emit, () => {});
    // past --sample nothing is read: a bad record there is not this preview's (the fast path never sees it)
    if (err === undefined || this.records >= this.limit) return;
    const where = this.opts.name === undefined ? 'the input' : `"${shown(this.opts.name)}"`;
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

const EMPTY = Buffer.alloc(0);

/**
 * The fields of the line [i, e) when every quote in it is an RFC 4180 quoted field without inner
 * quotes (`"a, b"`: the quote opens the field and closes it right before a delimiter or the line
 * end); undefined for any other quote, which csv-parse then reads.
 */
function splitQuoted(buf: Buffer, i: number, e: number, d: number): string[] | undefined {
  const record: string[] = [];
  let s = i;
  for (;;) {
    if (s < e && buf[s] === QUOTE) {
      const close = buf.indexOf(QUOTE, s + 1);
      if (close < 0 || close >= e) return undefined;
      const after = close + 1;
      if (after !== e && buf[after] !== d) return undefined;
      record.push(buf.toString('utf8', s + 1, close));
      if (after === e) return record;
      s = after + 1;
      continue;
    }
    let k = buf.indexOf(d, s);
    if (k < 0 || k > e) k = e;
    const q = buf.indexOf(QUOTE, s);
    if (q >= 0 && q < k) return undefined;
    record.push(buf.toString('utf8', s, k));
    if (k === e) return record;
    s = k + 1;
  }
}
/** lines a quoted record may span before the rest of the input goes to one csv-parse core */
const REGION_LINES = 16;
/** bytes of an unfinished line or quoted record the fast path holds before handing over to csv-parse */
const CARRY_MAX = 1 << 20;

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
