/**
 * What a JSON reader hands over for each record: its text and the physical line it starts on, or,
 * for a record larger than --max-record-bytes, its size and first bytes only (memory stays bounded).
 */
export type OnJsonText = (text: string, line: number) => void;
export type OnTooLarge = (head: string, bytes: number, line: number) => void;

/** How much of an oversized record is kept to show in rejects.csv. */
export const TOO_LARGE_HEAD = 1024;

/**
 * The bytes of one record gathered across chunks, up to maxBytes. Past that only its first
 * TOO_LARGE_HEAD bytes are kept and the rest is counted, so a record that never ends costs no memory.
 */
export class RecordBuffer {
  private parts: Buffer[] = [];
  /** bytes of the record so far, also when it is too large */
  private bytes = 0;
  private head: string | undefined;

  constructor(private readonly maxBytes: number) {}

  /** nothing gathered yet: a record that ends in this chunk can be read from the chunk itself */
  get empty(): boolean {
    return this.bytes === 0 && this.head === undefined;
  }

  add(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.head !== undefined) {
      this.bytes += n;
      return;
    }
    if (this.bytes + n > this.maxBytes) {
      this.head = Buffer.concat([...this.parts, chunk.subarray(from, Math.min(to, from + TOO_LARGE_HEAD))])
        .subarray(0, TOO_LARGE_HEAD)
        .toString('utf8');
      this.parts = [];
      this.bytes += n;
      return;
    }
    // a copy: the chunk may be reused by the stream after this call
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.bytes += n;
  }

  /** The record gathered (its bytes, or its head and size when too large); the buffer starts over. */
  take(): { bytes: Buffer } | { head: string; size: number } {
    const out =
      this.head !== undefined ? { head: this.head, size: this.bytes } : { bytes: this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts) };
    this.parts = [];
    this.bytes = 0;
    this.head = undefined;
    return out;
  }
}

/**
 * Splits NDJSON (JSON Lines) bytes into lines, push-based: write() chunks, then end(). A line ends at
 * LF; a CR before it is dropped (CRLF files). A lone CR is not a line end: JSON counts it as
 * whitespace, and so does JSON Lines. Every line is handed over with its physical line number,
 * blank ones included (the caller counts them as dropped), except the empty rest after a final LF.
 * A byte-order mark before the first line is skipped.
 */
export class NdjsonSplitter {
  /** the start of a line that continues in the next chunk */
  private readonly carry: RecordBuffer;
  private line = 1;
  private started = false;
  /** lines handed over (blank and too-large ones included) */
  lines = 0;

  constructor(
    private readonly onLine: OnJsonText,
    private readonly onTooLarge: OnTooLarge,
    private readonly maxBytes: number,
  ) {
    this.carry = new RecordBuffer(maxBytes);
  }

  write(chunk: Buffer): void {
    let pos = 0;
    if (!this.started && chunk.length > 0) {
      if (this.carry.empty && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) pos = 3;
      this.started = true;
    }
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) break;
      if (this.carry.empty) this.emit(chunk, pos, nl);
      else {
        this.carry.add(chunk, pos, nl);
        this.emitCarry();
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) this.carry.add(chunk, pos, chunk.length);
  }

  end(): void {
    if (!this.carry.empty) this.emitCarry();
  }

  private emitCarry(): void {
    const line = this.line++;
    this.lines++;
    const got = this.carry.take();
    if (!('bytes' in got)) {
      this.onTooLarge(got.head, got.size, line);
      return;
    }
    const all = got.bytes;
    const end = all.length > 0 && all[all.length - 1] === 13 ? all.length - 1 : all.length;
    this.onLine(all.toString('utf8', 0, end), line);
  }

  private emit(chunk: Buffer, from: number, to: number): void {
    const line = this.line++;
    this.lines++;
    const end = to > from && chunk[to - 1] === 13 ? to - 1 : to;
    if (end - from > this.maxBytes) {
      this.onTooLarge(chunk.toString('utf8', from, from + TOO_LARGE_HEAD), end - from, line);
      return;
    }
    this.onLine(chunk.toString('utf8', from, end), line);
  }
}
