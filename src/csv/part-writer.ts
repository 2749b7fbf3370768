import { createWriteStream, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';

const partName = (n: number) => `clean-part-${String(n).padStart(3, '0')}.csv`;

/**
 * Writes the clean CSV, splitting it into parts of at most `maxBytes` at row boundaries, each
 * with the header. A single part stays `clean.csv`; once a second is needed the first is renamed
 * `clean-part-001.csv` and the rest follow as -002, -003...
 */
export class PartWriter {
  private stream: WriteStream;
  private buffered = '';
  private partBytes = 0;
  private readonly headerLine: string;
  private readonly headerBytes: number;
  readonly parts: { file: string; rows: number; bytes: number }[] = [];

  constructor(private readonly dir: string, header: string, private readonly maxBytes: number) {
    this.headerLine = header;
    this.headerBytes = Buffer.byteLength(header);
    this.stream = createWriteStream(join(dir, 'clean.csv'));
    this.parts.push({ file: 'clean.csv', rows: 0, bytes: 0 });
    this.buffered = header;
    this.partBytes = this.headerBytes;
  }

  private current() {
    return this.parts[this.parts.length - 1]!;
  }

  /** Queue one row; returns true when the caller should `flush()` (a part is full). */
  add(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.pendingRotation.length > 0 || (this.partBytes + bytes > this.maxBytes && this.current().rows > 0)) {
      this.pendingRotation.push(line);
      return true;
    }
    this.buffered += line;
    this.partBytes += bytes;
    this.current().rows++;
    return this.buffered.length > 1 << 16;
  }

  private pendingRotation: string[] = [];

  async flush(): Promise<void> {
    if (this.buffered.length > 0) {
      const ok = this.stream.write(this.buffered);
      this.buffered = '';
      if (!ok) await once(this.stream, 'drain');
    }
    while (this.pendingRotation.length > 0) {
      const rows = this.pendingRotation;
      this.pendingRotation = [];
      await this.rotate();
      for (const r of rows) this.add(r);
      if (this.buffered.length > 0) {
        const ok = this.stream.write(this.buffered);
        this.buffered = '';
        if (!ok) await once(this.stream, 'drain');
      }
    }
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
    this.stream = createWriteStream(join(this.dir, file));
    this.buffered = this.headerLine;
    this.partBytes = this.headerBytes;
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
