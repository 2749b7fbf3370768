import type { WriteStream } from 'node:fs';
import { drained, endStream, openWriteStream } from './write-stream.js';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * clean.lines: where every written row came from, as two uint32 LE per row (input file index,
 * source line), in the order of the clean CSV parts. It lets Leanplum's per-row results be
 * traced back to the input.
 */
export class LineIndexWriter {
  private readonly stream: WriteStream;
  private buf: Uint32Array = new Uint32Array(16384);
  private n = 0;
  /** arrays the stream has finished with: reused, as fresh ones are freed only when GC gets to them */
  private readonly spare: Uint32Array[] = [];
  /**
   * Entries handed to the stream, counted at the write: the conservation check compares it with
   * the clean CSV writer's rows and the row step's occurrences.
   */
  entriesWritten = 0;

  constructor(path: string) {
    this.stream = openWriteStream(path, { highWaterMark: 1 << 19 });
  }

  /** Records one row's origin; returns true when the caller should await `flush()` before adding more. */
  add(file: number, line: number): boolean {
    this.buf[this.n++] = file;
    this.buf[this.n++] = line;
    return this.n === this.buf.length && !this.spill();
  }

  /** Writes the buffered entries; false when the stream asks the writer to wait for 'drain'. */
  private spill(): boolean {
    if (this.n === 0) return true;
    const full = this.buf;
    const ok = this.stream.write(Buffer.from(full.buffer, 0, this.n * 4), () => this.spare.push(full));
    this.entriesWritten += this.n / 2;
    // the stream holds `full` until its callback
    this.buf = this.spare.pop() ?? new Uint32Array(16384);
    this.n = 0;
    return ok;
  }

  async flush(): Promise<void> {
    await drained(this.stream);
  }

  async end(): Promise<void> {
    this.spill();
    await endStream(this.stream);
  }
}

/** Origins for the given 0-based global row indices (a missing file or index has none). */
export async function readSourceLines(path: string, indices: readonly number[]): Promise<Map<number, { file: number; line: number }>> {
  const out = new Map<number, { file: number; line: number }>();
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
  } catch {
    return out;
  }
  try {
    const b = Buffer.alloc(8);
    for (const i of indices) {
      const { bytesRead } = await fh.read(b, 0, 8, i * 8);
      if (bytesRead === 8) out.set(i, { file: b.readUInt32LE(0), line: b.readUInt32LE(4) });
    }
  } finally {
    await fh.close();
  }
  return out;
}
