import type { WriteStream } from 'node:fs';
import { drained, endStream, openWriteStream } from './write-stream.js';
import { csvLine } from './csv-line.js';

/** rejects.csv: [file,] line, reason, message, then the source row's fields unchanged. The file
 * column appears only when several inputs were read. */
export class RejectsWriter {
  private readonly stream: WriteStream;
  private buffered: string;

  constructor(
    path: string,
    sourceHeader: readonly string[],
    private readonly withFile: boolean,
  ) {
    this.stream = openWriteStream(path);
    this.buffered = csvLine([...(withFile ? ['file'] : []), 'line', 'reason', 'message', ...sourceHeader]);
  }

  /** Queue one rejected row; returns true when the caller should await `flush()` before adding more. */
  add(file: string, line: number, reason: string, message: string, fields: readonly string[]): boolean {
    this.buffered += csvLine([...(this.withFile ? [file] : []), String(line), reason, message, ...fields]);
    return this.buffered.length > 1 << 16;
  }

  async flush(): Promise<void> {
    if (this.buffered.length === 0) return;
    const ok = this.stream.write(this.buffered);
    this.buffered = '';
    if (!ok) await drained(this.stream);
  }

  async end(): Promise<void> {
    await this.flush();
    await endStream(this.stream);
  }
}
