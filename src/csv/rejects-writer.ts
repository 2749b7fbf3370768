import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { csvLine } from './write.js';

/** rejects.csv: line, reason, message, then the source row's fields unchanged. */
export class RejectsWriter {
  private readonly stream: WriteStream;
  private buffered: string;

  constructor(path: string, sourceHeader: readonly string[]) {
    this.stream = createWriteStream(path);
    this.buffered = csvLine(['line', 'reason', 'message', ...sourceHeader]);
  }

  add(line: number, reason: string, message: string, fields: readonly string[]): void {
    this.buffered += csvLine([String(line), reason, message, ...fields]);
  }

  async flush(): Promise<void> {
    if (this.buffered.length === 0) return;
    const ok = this.stream.write(this.buffered);
    this.buffered = '';
    if (!ok) await once(this.stream, 'drain');
  }

  async end(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
