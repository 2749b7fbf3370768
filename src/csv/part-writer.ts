import { createWriteStream, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';

const partName = (n: number) => `clean-part-${String(n).padStart(3, '0')}.csv`;

/** Rows are handed to the stream in pieces of about this many characters. */
const FLUSH_AT = 1 << 16;
// Large enough that the CPU keeps producing while the disk catches up; small enough to bound memory.
const STREAM_BUFFER = 1 << 20;

/**
 * Writes the clean CSV, splitting it into parts of at most `maxBytes` at row boundaries, each
 * with the header. A single part stays `clean.csv`; once a second is needed the first is renamed
 * `clean-part-001.csv` and the rest follow as -002, -003...
 *
 * Memory stays bounded only if the caller honours `add()`'s answer and awaits `flush()`.
 */
export class PartWriter {
  private stream: WriteStream;
  private buffered = '';
  /** rows in `buffered`, not yet handed to the stream */
  private bufferedRows = 0;
  private partBytes = 0;
  /** rows given to the current part, written or still buffered (a part never starts empty) */
  private partRows = 0;
  private readonly headerLine: string;
  private readonly headerBytes: number;
  /** rows per part, counted when they are handed to the part's stream */
  readonly parts: { file: string; rows: number; bytes: number }[] = [];
  /**
   * Rows handed to the streams, counted at the write itself rather than taken from the caller:
   * the conservation check compares it with the row step's count of occurrences.
   */
  rowsWritten = 0;

  constructor(private readonly dir: string, header: string, private readonly maxBytes: number) {
    this.headerLine = header;
    this.headerBytes = Buffer.byteLength(header);
    this.stream = createWriteStream(join(dir, 'clean.csv'), { highWaterMark: STREAM_BUFFER });
    this.parts.push({ file: 'clean.csv', rows: 0, bytes: 0 });
    this.buffered = header;
    this.partBytes = this.headerBytes;
  }

  private current() {
    return this.parts[this.parts.length - 1]!;
  }

  /** Queue one row; returns true when the caller should `flush()` before adding more. */
  add(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.pendingRotation.length > 0 || (this.partBytes + bytes > this.maxBytes && this.partRows > 0)) {
      this.pendingRotation.push(line);
      return true;
    }
    this.buffered += line;
    this.bufferedRows++;
    this.partBytes += bytes;
    this.partRows++;
    return this.buffered.length > FLUSH_AT;
  }

  private pendingRotation: string[] = [];

  /** Hands the buffered rows to the stream, waiting for it to drain when its buffer is full. */
  async flush(): Promise<void> {
    await this.writeBuffered();
    while (this.pendingRotation.length > 0) {
      const rows = this.pendingRotation;
      this.pendingRotation = [];
      await this.rotate();
      for (const r of rows) this.add(r);
      await this.writeBuffered();
    }
  }

  private async writeBuffered(): Promise<void> {
    if (this.buffered.length === 0) return;
    const ok = this.stream.write(this.buffered);
    this.current().rows += this.bufferedRows;
    this.rowsWritten += this.bufferedRows;
    this.buffered = '';
    this.bufferedRows = 0;
    if (!ok) await once(this.stream, 'drain');
  }

  private async rotate(): Promise<void> {
    this.current().bytes = this.partBytes;
    await this.close();
    if (this.parts.length === 1) {
      await rename(join(this.dir, 'clean.csv'), join(this.dir, partName(1)));
      this.parts[0]!.file = partName(1);
    }
    const file = partName(this.parts.length + 1);
    this.parts.push({ file, rows: 0, bytes: 0 });
    this.stream = createWriteStream(join(this.dir, file), { highWaterMark: STREAM_BUFFER });
    this.buffered = this.headerLine;
    this.partBytes = this.headerBytes;
    this.partRows = 0;
  }

  private async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }

  async end(): Promise<void> {
    await this.flush();
    this.current().bytes = this.partBytes;
    await this.close();
  }
}
