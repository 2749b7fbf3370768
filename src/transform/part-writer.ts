import type { WriteStream } from 'node:fs';
import { drained, endStream, openWriteStream } from './write-stream.js';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { BillableLookups } from '../events/cost.js';
import { BatchPacker } from '../events/multi-batches.js';

const partName = (n: number) => `clean-part-${String(n).padStart(3, '0')}.csv`;

/** Rows are handed to the stream in pieces of about this many characters. */
const FLUSH_AT = 1 << 16;
// Large enough that the CPU keeps producing while the disk catches up; small enough to bound memory.
const STREAM_BUFFER = 1 << 19;
/** Room for FLUSH_AT characters of UTF-8 (at most 3 bytes each) and the row that crossed it. */
const POOLED_BYTES = 1 << 18;
/** How many users larger than a part are named in the summary (all are counted). */
const SPLIT_SAMPLE = 10;

export interface PartWriterOptions {
  /**
   * The rows come grouped by user (consecutive rows with the same user form a group): a part
   * boundary falls only between two groups. A group larger than a whole part is the exception:
   * it is split, counted and named in `splitGroups`.
   */
  groups?: boolean;
  /**
   * Name the parts from this number on (clean-part-NNN.csv), never `clean.csv`: the canary's
   * writer is part 1, the other users' writer starts at 2 (issue 20).
   */
  firstPart?: number;
  /**
   * The writer must stay ONE part (the canary's: its neighbour's parts are numbered from 2): the
   * error to throw when a row does not fit in it, instead of opening a second part.
   */
  onePart?: (rowsInPart: number) => Error;
}

export interface PartInfo {
  file: string;
  rows: number;
  bytes: number;
  /** billable lookups of this part (unique users per batch of 50 rows), known once the writer has ended */
  billableLookups: number;
  /** the canary's part: only canary users, imported alone and first (issue 20) */
  canary?: boolean;
}

/**
 * Writes the clean CSV, splitting it into parts of at most `maxBytes` at row boundaries, each
 * with the header. A single part stays `clean.csv`; once a second is needed the first is renamed
 * `clean-part-001.csv` and the rest follow as -002, -003...
 *
 * With `groups`, a user's rows stay in one part: when a user that began inside a part does not
 * fit in it, the rows of that user already written are moved to the start of the next part (the
 * order of the rows in the whole file does not change, so clean.lines stays aligned). Only a user
 * whose rows alone exceed a part is split.
 *
 * It also counts the billable lookups of the file exactly as written (`lookups`), part by part.
 *
 * Memory stays bounded only if the caller honours `add()`'s answer and awaits `flush()`.
 */
export class PartWriter {
  private stream: WriteStream;
  private buffered = '';
  /** rows in `buffered`, not yet handed to the stream */
  private bufferedRows = 0;
  private bufferedBytes = 0;
  /**
   * Buffers the stream has finished with, for the next writes. A fresh Buffer per write is freed
   * only once GC reaches it, and at millions of rows that lag alone held ~30 MB of dead buffers.
   */
  private readonly spare: Buffer[] = [];
  private partBytes = 0;
  /** rows given to the current part, written or still buffered (a part never starts empty) */
  private partRows = 0;
  private readonly headerLine: string;
  private readonly headerBytes: number;
  private readonly grouped: boolean;
  /** parts are numbered from `base + 1` and named so from the first (undefined: clean.csv until a second part) */
  private readonly base: number | undefined;
  /** lines (with their user) waiting for `flush()` to start a new part */
  private queue: string[] = [];
  private action: 'rotate' | 'move' | 'split' | undefined;
  /** the current group (user), where it starts in the current part, and its rows in this part */
  private group: string | undefined;
  private groupStartRow = 0;
  private groupStartBytes = 0;
  private groupRows = 0;
  /** the current group was split already (counted), and its entry in the sample if it has one */
  private splitCounted = false;
  private splitEntry: { user: string; firstPart: string; lastPart: string } | undefined;
  /** rows per part, counted when they are handed to the part's stream */
  readonly parts: PartInfo[] = [];
  /**
   * Rows handed to the streams, counted at the write itself rather than taken from the caller:
   * the conservation check compares it with the row step's count of occurrences. A row moved to
   * the next part is counted once.
   */
  rowsWritten = 0;
  /** billable lookups of the file as written */
  readonly lookups = new BillableLookups();
  /**
   * The API sink's calls over the same rows (whole users, ≤ 50 users / 500 actions, across parts,
   * as `send` packs them): `billable` is its billable lookups, counted before anything is sent.
   */
  readonly apiBatches = new BatchPacker();
  /** groups (users) larger than a part, which had to be split: how many, and the first few */
  readonly splitGroups: { count: number; sample: { user: string; firstPart: string; lastPart: string }[] } = { count: 0, sample: [] };
  /** rows moved to the next part to keep a user together */
  rowsMoved = 0;

  constructor(
    private readonly dir: string,
    header: string,
    private readonly maxBytes: number,
    options: PartWriterOptions = {},
  ) {
    this.headerLine = header;
    this.headerBytes = Buffer.byteLength(header);
    this.grouped = options.groups === true;
    this.base = options.firstPart === undefined ? undefined : options.firstPart - 1;
    this.onePart = options.onePart;
    const first = this.base === undefined ? 'clean.csv' : partName(this.base + 1);
    this.stream = openWriteStream(join(dir, first), { highWaterMark: STREAM_BUFFER });
    this.parts.push({ file: first, rows: 0, bytes: 0, billableLookups: 0 });
    this.buffered = header;
    this.partBytes = this.headerBytes;
    this.groupStartBytes = this.headerBytes;
  }

  private readonly onePart: ((rowsInPart: number) => Error) | undefined;

  private current() {
    return this.parts[this.parts.length - 1]!;
  }

  /**
   * Queue one row of `user` (the userId, for the lookups and the groups); returns true when the
   * caller should `flush()` before adding more.
   */
  add(line: string, user = ''): boolean {
    if (this.queue.length > 0) {
      this.queue.push(line, user);
      return true;
    }
    const bytes = Buffer.byteLength(line);
    if (this.grouped && user !== this.group) this.startGroup(user);
    if (this.partBytes + bytes > this.maxBytes && this.partRows > 0) {
      if (this.onePart !== undefined) throw this.onePart(this.partRows);
      this.action = !this.grouped || this.groupRows === 0 ? 'rotate' : this.groupStartRow > 0 ? 'move' : 'split';
      this.queue.push(line, user);
      return true;
    }
    this.buffered += line;
    this.bufferedRows++;
    this.bufferedBytes += bytes;
    this.partBytes += bytes;
    this.partRows++;
    if (this.grouped) this.groupRows++;
    else {
      this.lookups.rows(user);
      this.apiBatches.rows(user);
    }
    return this.buffered.length > FLUSH_AT;
  }

  /** The previous group is complete in this part: count its lookups; the next starts here. */
  private startGroup(user: string): void {
    if (this.groupRows > 0) this.countGroup();
    this.group = user;
    this.splitCounted = false;
    this.splitEntry = undefined;
    this.groupStartRow = this.partRows;
    this.groupStartBytes = this.partBytes;
    this.groupRows = 0;
  }

  /** Hands the buffered rows to the stream, waiting for it to drain when its buffer is full. */
  async flush(): Promise<void> {
    await this.writeBuffered();
    while (this.queue.length > 0) {
      const q = this.queue;
      const action = this.action;
      this.queue = [];
      this.action = undefined;
      if (action === 'move') await this.moveGroup();
      else await this.rotate(action === 'split');
      for (let i = 0; i < q.length; i += 2) this.add(q[i]!, q[i + 1]!);
      await this.writeBuffered();
    }
  }

  private async writeBuffered(): Promise<void> {
    if (this.buffered.length === 0) return;
    let ok: boolean;
    if (this.bufferedBytes <= POOLED_BYTES) {
      const b = this.spare.pop() ?? Buffer.allocUnsafeSlow(POOLED_BYTES);
      const n = b.write(this.buffered);
      ok = this.stream.write(b.subarray(0, n), () => this.spare.push(b));
    } else {
      ok = this.stream.write(this.buffered);
    }
    this.current().rows += this.bufferedRows;
    this.rowsWritten += this.bufferedRows;
    this.buffered = '';
    this.bufferedRows = 0;
    this.bufferedBytes = 0;
    if (!ok) await drained(this.stream);
  }

  /** Ends the current part (its rows are all written) and opens the next. */
  private async closePart(): Promise<void> {
    this.lookups.endPart();
    this.current().bytes = this.partBytes;
    await this.close();
    if (this.parts.length === 1 && this.base === undefined) {
      await rename(join(this.dir, 'clean.csv'), join(this.dir, partName(1)));
      this.parts[0]!.file = partName(1);
    }
  }

  private openPart(): void {
    const file = partName((this.base ?? 0) + this.parts.length + 1);
    this.parts.push({ file, rows: 0, bytes: 0, billableLookups: 0 });
    this.stream = openWriteStream(join(this.dir, file), { highWaterMark: STREAM_BUFFER });
    this.partBytes = this.headerBytes;
    this.partRows = 0;
    this.groupStartRow = 0;
    this.groupStartBytes = this.headerBytes;
  }

  /** The next part starts with the queued row; `split`: in the middle of a group larger than a part. */
  private async rotate(split: boolean): Promise<void> {
    if (split) this.countGroup();
    await this.closePart();
    const before = this.current().file;
    this.openPart();
    if (split) {
      if (!this.splitCounted) {
        this.splitGroups.count++;
        if (this.splitGroups.sample.length < SPLIT_SAMPLE)
          this.splitGroups.sample.push((this.splitEntry = { user: this.group!, firstPart: before, lastPart: '' }));
      }
      this.splitCounted = true;
      if (this.splitEntry !== undefined) this.splitEntry.lastPart = this.current().file;
    }
    this.groupRows = 0;
    this.buffered = this.headerLine;
  }

  /**
   * The current group began inside this part and does not fit: its rows (all handed to the
   * stream by now) move from the end of this part to the start of the next one.
   */
  private async moveGroup(): Promise<void> {
    const from = this.groupStartBytes;
    const to = this.partBytes;
    const rows = this.groupRows;
    this.partBytes = from;
    this.current().rows -= rows;
    await this.closePart();
    const old = join(this.dir, this.current().file);
    this.openPart();
    this.stream.write(this.headerLine);
    const fh = await open(old, 'r+');
    try {
      const size = Math.min(1 << 20, to - from);
      for (let at = from; at < to; ) {
        const buf = Buffer.allocUnsafe(size);
        const { bytesRead } = await fh.read(buf, 0, Math.min(size, to - at), at);
        if (bytesRead === 0) throw new Error(`${old} is shorter than the ${to} bytes written to it`);
        if (!this.stream.write(buf.subarray(0, bytesRead))) await drained(this.stream);
        at += bytesRead;
      }
      await fh.truncate(from);
    } finally {
      await fh.close();
    }
    this.current().rows += rows;
    this.partBytes = this.headerBytes + (to - from);
    this.partRows = rows;
    this.groupRows = rows;
    this.rowsMoved += rows;
    this.buffered = '';
  }

  /** The current group's rows in this part, into both cost counts (in row order). */
  private countGroup(): void {
    this.lookups.rows(this.group!, this.groupRows);
    this.apiBatches.rows(this.group!, this.groupRows);
  }

  private async close(): Promise<void> {
    await endStream(this.stream);
  }

  async end(): Promise<void> {
    await this.flush();
    if (this.grouped && this.groupRows > 0) this.countGroup();
    this.groupRows = 0;
    this.lookups.endPart();
    this.apiBatches.end();
    this.current().bytes = this.partBytes;
    await this.close();
    for (const [i, p] of this.parts.entries()) p.billableLookups = this.lookups.byPart[i] ?? 0;
  }
}
