/**
 * What a JSON reader hands over for each record: its text and the physical line it starts on, or,
 * for a record larger than --max-record-bytes, its size and first bytes only (memory stays bounded).
 */
export type OnJsonText = (text: string, line: number) => void;
export type OnTooLarge = (head: string, bytes: number, line: number) => void;

/** How much of an oversized record is kept to show in rejects.csv. */
export const TOO_LARGE_HEAD = 1024;

/**
 * Splits NDJSON (JSON Lines) bytes into lines, push-based: write() chunks, then end(). A line ends at
 * LF; a CR before it is dropped (CRLF files). A lone CR is not a line end: JSON counts it as
 * whitespace, and so does JSON Lines. Every line is handed over with its physical line number,
 * blank ones included (the caller counts them as dropped), except the empty rest after a final LF.
 * A byte-order mark before the first line is skipped.
 */
export class NdjsonSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** the line being skipped is too long: only its head is kept */
  private overflowHead: string | undefined;
  private line = 1;
  private started = false;
  /** lines handed over (blank and too-large ones included) */
  lines = 0;

  constructor(
    private readonly onLine: OnJsonText,
    private readonly onTooLarge: OnTooLarge,
    private readonly maxBytes: number,
  ) {}

  write(chunk: Buffer): void {
    let pos = 0;
    if (!this.started && chunk.length > 0) {
      if (this.carryBytes === 0 && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) pos = 3;
      this.started = true;
    }
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) break;
      if (this.carryBytes === 0 && this.overflowHead === undefined) this.emit(chunk, pos, nl);
      else {
        this.keep(chunk, pos, nl);
        this.emitCarry();
      }
      pos = nl + 1;
    }
    if (pos < chunk.length) this.keep(chunk, pos, chunk.length);
  }

  end(): void {
    if (this.carryBytes > 0 || this.overflowHead !== undefined) this.emitCarry();
  }

  /** Holds the start of a line that continues in the next chunk; past maxBytes keeps its head only. */
  private keep(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.overflowHead !== undefined) {
      this.carryBytes += n;
      return;
    }
    if (this.carryBytes + n > this.maxBytes) {
      const all = Buffer.concat([...this.carry, chunk.subarray(from, Math.min(to, from + TOO_LARGE_HEAD))]);
      this.overflowHead = all.subarray(0, TOO_LARGE_HEAD).toString('utf8');
      this.carry = [];
      this.carryBytes += n;
      return;
    }
    // a copy: the chunk may be reused by the stream after this call
    this.carry.push(Buffer.from(chunk.subarray(from, to)));
    this.carryBytes += n;
  }

  private emitCarry(): void {
    const line = this.line++;
    this.lines++;
    if (this.overflowHead !== undefined) {
      const bytes = this.carryBytes;
      const head = this.overflowHead;
      this.overflowHead = undefined;
      this.carryBytes = 0;
      this.onTooLarge(head, bytes, line);
      return;
    }
    const all = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry);
    this.carry = [];
    this.carryBytes = 0;
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
