import type { WriteStream } from 'node:fs';
import { drained, endStream, openWriteStream } from './write-stream.js';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One record as the sink receives it: the sort key (`key`, then `num`, then `seq`), two numbers
 * carried along (`a`, `b`) and the payload's bytes `payload[start, end)`. The sorter fills one
 * object per drain and reuses it for every record: read its fields during the call, do not keep it.
 */
export interface SortRecord {
  key: string;
  num: number;
  seq: number;
  a: number;
  b: number;
  payload: Buffer;
  start: number;
  end: number;
}

/**
 * Receives the sorted records one by one. The record and `payload[start, end)` are valid only
 * during the call (copy or decode them there). Returning true asks the sorter to await the sink's
 * `wait` before the next record (a writer whose buffer is full).
 */
export type SortSink = (record: Readonly<SortRecord>) => boolean;

/**
 * Bytes per record in the typed arrays (chunk, offset, key length, payload length, a, b: u32;
 * num, seq, 2 key prefixes: f64), plus the two u32 index arrays of the in-memory sort.
 */
const RECORD_BYTES = 64;
/** A spilled record's fixed header: length, key length, num (f64), seq (f64), a, b. */
const HEADER = 32;
const MAX_FAN_IN = 64;
const MIN_READ_BUFFER = 16 * 1024;
/** key bytes held in each of the two numeric prefixes (48 bits: exact in a double) */
const PREFIX = 6;

/** Buffer's UTF-8 methods without the argument handling of toString/write (hot in both directions). */
interface Utf8Buffer {
  utf8Slice(start: number, end: number): string;
  utf8Write(text: string, offset: number, length: number): number;
}
const utf8 = (b: Buffer) => b as unknown as Utf8Buffer;
const EMPTY = Buffer.alloc(0);
/** A record's payload as text: `payload.toString('utf8', start, end)`, faster. */
export const payloadText = (r: Readonly<SortRecord>): string => utf8(r.payload).utf8Slice(r.start, r.end);

/**
 * The key strings handed to the sink: consecutive records mostly share their key (a user's rows),
 * so the previous string is reused when the bytes are the same instead of decoding them again.
 */
class KeyDecoder {
  private p1 = NaN;
  private p2 = NaN;
  private bytes: Buffer = Buffer.alloc(0);
  private key = '';

  decode(buf: Buffer, start: number, end: number, p1: number, p2: number): string {
    const len = end - start;
    if (p1 === this.p1 && p2 === this.p2 && len === this.bytes.length && (len <= 2 * PREFIX || this.bytes.compare(buf, start, end) === 0)) return this.key;
    this.p1 = p1;
    this.p2 = p2;
    this.bytes = Buffer.from(buf.subarray(start, end));
    this.key = utf8(buf).utf8Slice(start, end);
    return this.key;
  }
}

/** Bytes [at + from, at + from + 6) of a key of `len` bytes as a number, big-endian, zero-padded. */
function prefixOf(buf: Buffer, at: number, len: number, from: number): number {
  if (len >= from + PREFIX) return buf.readUIntBE(at + from, PREFIX);
  let v = 0;
  for (let k = from; k < from + PREFIX; k++) v = v * 256 + (k < len ? buf[at + k]! : 0);
  return v;
}

/**
 * An external merge sort of records (key, num, seq, a, b, payload) by key (its UTF-8 bytes, as
 * `LC_ALL=C sort` orders them: code point order), then num, then seq, then the order they were
 * added — so equal records keep their input order (a stable sort). `a` and `b` ride along.
 *
 * Records are gathered in memory until their size reaches `budget` bytes, then sorted and written
 * ("spilled") as one sorted run to a file in `dir`. At the end the runs are merged with a k-way
 * heap, in several passes when there are more runs than a merge reads at once, reading each
 * through a buffer so the merge also stays within the budget. When everything fits in memory,
 * nothing is written and the records come straight from memory.
 *
 * Keys and payloads are kept as UTF-8 bytes in large buffers, with two numeric prefixes of each
 * key for fast comparison, rather than as strings: a full buffer is a few big allocations that
 * the garbage collector never walks, nothing is promoted to the old heap to die there after a
 * spill, and the memory used is close to the bytes counted.
 */
export class ExternalSorter {
  /** records added */
  added = 0;
  /** records handed to the sink */
  emitted = 0;
  runs: string[] = [];
  /** sorted runs written from memory */
  spills = 0;
  /** bytes written to run files, merge passes included */
  bytesSpilled = 0;
  /** merge passes before the final one (0 when all runs fit one merge) */
  extraPasses = 0;

  private readonly chunkSize: number;
  private chunks: Buffer[] = [];
  private chunk = -1;
  private chunkUsed = 0;
  private cap = 0;
  private n = 0;
  private recChunk = new Uint32Array(0);
  private recOff = new Uint32Array(0);
  private recKeyLen = new Uint32Array(0);
  private recLen = new Uint32Array(0);
  private recA = new Uint32Array(0);
  private recB = new Uint32Array(0);
  private recNum = new Float64Array(0);
  private recSeq = new Float64Array(0);
  private recP1 = new Float64Array(0);
  private recP2 = new Float64Array(0);
  private used = 0;
  private runSeq = 0;
  private dirMade = false;

  constructor(
    private readonly dir: string,
    private readonly budget: number,
  ) {
    this.chunkSize = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(budget / 16)));
  }

  /**
   * Adds one record (`len`: the payload's UTF-8 byte length, when the caller knows it); true when
   * the memory budget is reached and the caller should await `spill()`.
   */
  add(key: string, num: number, seq: number, a: number, b: number, payload: string, len = Buffer.byteLength(payload)): boolean {
    const keyLen = Buffer.byteLength(key);
    const total = keyLen + len;
    if (this.chunk < 0 || this.chunkUsed + total > this.chunks[this.chunk]!.length) this.nextChunk(total);
    const buf = this.chunks[this.chunk]!;
    const at = this.chunkUsed;
    utf8(buf).utf8Write(key, at, keyLen);
    utf8(buf).utf8Write(payload, at + keyLen, len);
    if (this.n === this.cap) this.grow(this.cap === 0 ? Math.floor(this.budget / RECORD_BYTES) + 1 : Math.ceil(this.cap * 1.5));
    const i = this.n++;
    this.recChunk[i] = this.chunk;
    this.recOff[i] = at;
    this.recKeyLen[i] = keyLen;
    this.recLen[i] = len;
    this.recNum[i] = num;
    this.recSeq[i] = seq;
    this.recA[i] = a;
    this.recB[i] = b;
    this.recP1[i] = prefixOf(buf, at, keyLen, 0);
    this.recP2[i] = prefixOf(buf, at, keyLen, PREFIX);
    this.chunkUsed = at + total;
    this.used += total + RECORD_BYTES;
    this.added++;
    return this.used >= this.budget;
  }

  private nextChunk(len: number): void {
    this.chunk++;
    this.chunkUsed = 0;
    if (this.chunk < this.chunks.length && this.chunks[this.chunk]!.length >= len) return;
    // an oversized record gets a chunk of its own, dropped again when the buffer is reset
    const b = Buffer.allocUnsafe(Math.max(this.chunkSize, len));
    if (this.chunk < this.chunks.length) this.chunks[this.chunk] = b;
    else this.chunks.push(b);
  }

  /**
   * The first call sizes the arrays for as many records as the budget can hold, so they never
   * have to be copied while full (zero-filled typed arrays take memory only as they are written
   * to); later calls only happen when a caller adds past the budget.
   */
  private grow(cap: number): void {
    const g32 = (a: Uint32Array) => {
      const x = new Uint32Array(cap);
      x.set(a);
      return x;
    };
    const g64 = (a: Float64Array) => {
      const x = new Float64Array(cap);
      x.set(a);
      return x;
    };
    this.recChunk = g32(this.recChunk);
    this.recOff = g32(this.recOff);
    this.recKeyLen = g32(this.recKeyLen);
    this.recLen = g32(this.recLen);
    this.recA = g32(this.recA);
    this.recB = g32(this.recB);
    this.recNum = g64(this.recNum);
    this.recSeq = g64(this.recSeq);
    this.recP1 = g64(this.recP1);
    this.recP2 = g64(this.recP2);
    this.cap = cap;
  }

  /** The order of records x and y (negative: x first): key bytes (prefixes first), num, seq, then index. */
  private compare(x: number, y: number): number {
    let d = this.recP1[x]! - this.recP1[y]! || this.recP2[x]! - this.recP2[y]!;
    if (d !== 0) return d;
    const lx = this.recKeyLen[x]!;
    const ly = this.recKeyLen[y]!;
    if (lx > 2 * PREFIX || ly > 2 * PREFIX) {
      const ox = this.recOff[x]!;
      const oy = this.recOff[y]!;
      d = this.chunks[this.recChunk[x]!]!.compare(this.chunks[this.recChunk[y]!]!, oy, oy + ly, ox, ox + lx);
    } else d = lx - ly;
    return d || this.recNum[x]! - this.recNum[y]! || this.recSeq[x]! - this.recSeq[y]! || x - y;
  }

  /**
   * The in-memory records' indices in sorted order. A merge sort of typed arrays written here
   * rather than TypedArray#sort with a comparator, which copies the array into the heap (twice
   * its size, left for the garbage collector at every spill) and calls the comparator slower.
   */
  private sortedIndex(): Uint32Array {
    const n = this.n;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const tmp = new Uint32Array(n);
    const sort = (lo: number, hi: number): void => {
      if (hi - lo <= 16) {
        for (let i = lo + 1; i < hi; i++) {
          const v = order[i]!;
          let j = i - 1;
          while (j >= lo && this.compare(order[j]!, v) > 0) {
            order[j + 1] = order[j]!;
            j--;
          }
          order[j + 1] = v;
        }
        return;
      }
      const mid = (lo + hi) >>> 1;
      sort(lo, mid);
      sort(mid, hi);
      if (this.compare(order[mid - 1]!, order[mid]!) <= 0) return; // already in order: common for time-ordered exports
      tmp.set(order.subarray(lo, mid), lo);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) order[k++] = this.compare(order[j]!, tmp[i]!) < 0 ? order[j++]! : tmp[i++]!;
      while (i < mid) order[k++] = tmp[i++]!;
    };
    sort(0, n);
    return order;
  }

  private reset(): void {
    this.n = 0;
    this.chunk = -1;
    this.chunkUsed = 0;
    this.used = 0;
    // oversized chunks go; the regular ones are reused by the next run
    this.chunks = this.chunks.filter((c) => c.length === this.chunkSize);
  }

  private async newRunFile(): Promise<{ path: string; out: WriteStream }> {
    if (!this.dirMade) {
      await mkdir(this.dir, { recursive: true });
      this.dirMade = true;
    }
    const path = join(this.dir, `run-${String(++this.runSeq).padStart(6, '0')}.bin`);
    return { path, out: openWriteStream(path, { highWaterMark: 1 << 20 }) };
  }

  /** Sorts the records in memory and writes them as one run; the memory is reused afterwards. */
  async spill(): Promise<void> {
    if (this.n === 0) return;
    const order = this.sortedIndex();
    const { path, out } = await this.newRunFile();
    const w = new RunWriter(out);
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      const c = this.chunks[this.recChunk[i]!]!;
      const off = this.recOff[i]!;
      const kl = this.recKeyLen[i]!;
      if (w.record(c, off, off + kl, this.recNum[i]!, this.recSeq[i]!, this.recA[i]!, this.recB[i]!, off + kl + this.recLen[i]!)) await w.drained();
    }
    this.bytesSpilled += await w.end();
    this.runs.push(path);
    this.spills++;
    this.reset();
  }

  /**
   * Hands every record to `sink` in sorted order, then removes the run files. `wait` is awaited
   * whenever the sink returns true.
   */
  async drain(sink: SortSink, wait: () => Promise<void>): Promise<void> {
    try {
      const keys = new KeyDecoder();
      const rec: SortRecord = { key: '', num: 0, seq: 0, a: 0, b: 0, payload: EMPTY, start: 0, end: 0 };
      if (this.runs.length === 0) {
        const order = this.sortedIndex();
        for (let j = 0; j < order.length; j++) {
          const i = order[j]!;
          const c = this.chunks[this.recChunk[i]!]!;
          const off = this.recOff[i]!;
          const ps = off + this.recKeyLen[i]!;
          this.emitted++;
          rec.key = keys.decode(c, off, ps, this.recP1[i]!, this.recP2[i]!);
          rec.num = this.recNum[i]!;
          rec.seq = this.recSeq[i]!;
          rec.a = this.recA[i]!;
          rec.b = this.recB[i]!;
          rec.payload = c;
          rec.start = ps;
          rec.end = ps + this.recLen[i]!;
          if (sink(rec)) await wait();
        }
        this.reset();
        this.release();
        return;
      }
      await this.spill();
      this.release();
      const fanIn = Math.max(2, Math.min(MAX_FAN_IN, Math.floor(this.budget / (64 * 1024))));
      // Merge in rounds, each turning every fanIn consecutive runs into one, until one merge can
      // read them all: every row is re-read once a round (log_fanIn(runs) rounds), not once per
      // merge as a chain would. Groups are consecutive stretches of the input, in order, so ties
      // still go to the earlier run and the sort stays stable.
      while (this.runs.length > fanIn) {
        const next: string[] = [];
        for (let g = 0; g < this.runs.length; g += fanIn) {
          const group = this.runs.slice(g, g + fanIn);
          if (group.length === 1) {
            next.push(group[0]!);
            continue;
          }
          const { path, out } = await this.newRunFile();
          const w = new RunWriter(out);
          await mergeRuns(group, this.readBuffer(group.length), (r) => (w.copy(r) ? w.drained() : undefined));
          this.bytesSpilled += await w.end();
          for (const p of group) await rm(p, { force: true });
          next.push(path);
        }
        this.runs = next;
        this.extraPasses++;
      }
      await mergeRuns(this.runs, this.readBuffer(this.runs.length), (r) => {
        this.emitted++;
        rec.key = keys.decode(r.buf, r.keyStart, r.payloadStart, r.p1, r.p2);
        rec.num = r.num;
        rec.seq = r.seq;
        rec.a = r.a;
        rec.b = r.b;
        rec.payload = r.buf;
        rec.start = r.payloadStart;
        rec.end = r.end;
        return sink(rec) ? wait() : undefined;
      });
    } finally {
      await this.dispose();
    }
  }

  private readBuffer(runs: number): number {
    // sequential reads gain little past 1 MB; the rest of the budget is left unused rather than risked
    return Math.max(MIN_READ_BUFFER, Math.min(1024 * 1024, Math.floor(this.budget / (2 * (runs + 1)))));
  }

  /** Frees the in-memory buffers (the merge needs the memory for its read buffers). */
  private release(): void {
    this.chunks = [];
    this.cap = 0;
    this.recChunk = this.recOff = this.recKeyLen = this.recLen = this.recA = this.recB = new Uint32Array(0);
    this.recNum = this.recSeq = this.recP1 = this.recP2 = new Float64Array(0);
  }

  /** Removes the run files (also after a failure). */
  async dispose(): Promise<void> {
    this.release();
    this.runs = [];
    if (this.dirMade) await rm(this.dir, { recursive: true, force: true });
    this.dirMade = false;
  }
}

/** Writes records (or copies of whole records) into a run file through a 1 MB buffer. */
class RunWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private at = 0;
  private bytes = 0;
  constructor(private readonly out: WriteStream) {}

  private room(n: number): boolean {
    if (this.at + n <= this.buf.length) return false;
    const full = this.spill();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    return full;
  }

  /** true when the stream asks to wait for 'drain' */
  private spill(): boolean {
    if (this.at === 0) return false;
    const ok = this.out.write(this.buf.subarray(0, this.at));
    this.bytes += this.at;
    // the stream owns the written bytes until it is done with them
    this.buf = Buffer.allocUnsafe(Math.max(1 << 20, this.buf.length));
    this.at = 0;
    return !ok;
  }

  /** A record from memory: its key at src[keyStart, keyEnd), its payload at src[keyEnd, end). */
  record(src: Buffer, keyStart: number, keyEnd: number, num: number, seq: number, a: number, b: number, end: number): boolean {
    const len = HEADER + (end - keyStart);
    const full = this.room(len);
    const buf = this.buf;
    const o = this.at;
    buf.writeUInt32LE(len, o);
    buf.writeUInt32LE(keyEnd - keyStart, o + 4);
    buf.writeDoubleLE(num, o + 8);
    buf.writeDoubleLE(seq, o + 16);
    buf.writeUInt32LE(a, o + 24);
    buf.writeUInt32LE(b, o + 28);
    src.copy(buf, o + HEADER, keyStart, end);
    this.at = o + len;
    return full;
  }

  copy(r: RunReader): boolean {
    const len = r.end - r.start;
    const full = this.room(len);
    r.buf.copy(this.buf, this.at, r.start, r.end);
    this.at += len;
    return full;
  }

  async drained(): Promise<void> {
    await drained(this.out);
  }

  async end(): Promise<number> {
    this.spill();
    await endStream(this.out);
    return this.bytes;
  }
}

/** Reads one run file record by record through a buffer. */
class RunReader {
  buf: Buffer;
  private filled = 0;
  private pos = 0;
  private eof = false;
  /** the current record: bytes [start, end) of buf */
  start = 0;
  end = 0;
  keyStart = 0;
  payloadStart = 0;
  p1 = 0;
  p2 = 0;
  num = 0;
  seq = 0;
  a = 0;
  b = 0;

  constructor(
    private readonly fh: FileHandle,
    size: number,
    readonly run: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Moves to the next record if it is already in the buffer. */
  tryNext(): boolean {
    const at = this.end;
    if (at + 4 > this.filled) return false;
    const len = this.buf.readUInt32LE(at);
    if (at + len > this.filled) return false;
    const keyLen = this.buf.readUInt32LE(at + 4);
    this.num = this.buf.readDoubleLE(at + 8);
    this.seq = this.buf.readDoubleLE(at + 16);
    this.a = this.buf.readUInt32LE(at + 24);
    this.b = this.buf.readUInt32LE(at + 28);
    this.keyStart = at + HEADER;
    this.p1 = prefixOf(this.buf, at + HEADER, keyLen, 0);
    this.p2 = prefixOf(this.buf, at + HEADER, keyLen, PREFIX);
    this.start = at;
    this.payloadStart = at + HEADER + keyLen;
    this.end = at + len;
    return true;
  }

  /** Moves to the next record, reading more of the file as needed; false at the end of the run. */
  async next(): Promise<boolean> {
    while (!this.tryNext()) {
      if (this.eof) {
        if (this.end !== this.filled) throw new Error(`sort run ends inside a record (${this.filled - this.end} bytes left)`);
        return false;
      }
      await this.fill();
    }
    return true;
  }

  private async fill(): Promise<void> {
    // keep the unread bytes, at the start of a buffer large enough for the next record
    const rest = this.filled - this.end;
    const need = rest >= 4 ? this.buf.readUInt32LE(this.end) : 0;
    let target = this.buf;
    if (need > this.buf.length) target = Buffer.allocUnsafe(need);
    this.buf.copy(target, 0, this.end, this.filled);
    this.buf = target;
    this.filled = rest;
    this.start = this.end = this.payloadStart = this.keyStart = 0;
    const { bytesRead } = await this.fh.read(this.buf, this.filled, this.buf.length - this.filled, this.pos);
    this.pos += bytesRead;
    this.filled += bytesRead;
    if (bytesRead === 0) this.eof = true;
  }
}

/** Whether x's record sorts before y's: key bytes (prefixes first), num, seq, then the earlier run. */
const before = (x: RunReader, y: RunReader): boolean => {
  if (x.p1 !== y.p1) return x.p1 < y.p1;
  if (x.p2 !== y.p2) return x.p2 < y.p2;
  const lx = x.payloadStart - x.keyStart;
  const ly = y.payloadStart - y.keyStart;
  if (lx > 2 * PREFIX || ly > 2 * PREFIX) {
    const d = x.buf.compare(y.buf, y.keyStart, y.payloadStart, x.keyStart, x.payloadStart);
    if (d !== 0) return d < 0;
  } else if (lx !== ly) return lx < ly;
  if (x.num !== y.num) return x.num < y.num;
  if (x.seq !== y.seq) return x.seq < y.seq;
  return x.run < y.run;
};

/**
 * k-way merge of sorted runs with a binary heap; `emit` sees each record while its bytes are
 * valid and may return a promise to wait for before the merge goes on.
 */
async function mergeRuns(paths: readonly string[], bufferSize: number, emit: (r: RunReader) => Promise<void> | undefined): Promise<void> {
  const files: FileHandle[] = [];
  try {
    const heap: RunReader[] = [];
    for (let i = 0; i < paths.length; i++) {
      const fh = await open(paths[i]!, 'r');
      files.push(fh);
      const r = new RunReader(fh, bufferSize, i);
      if (await r.next()) heap.push(r);
    }
    const down = (i: number) => {
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) return;
        const r = l + 1;
        const m = r < n && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[m]!, heap[i]!)) return;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    while (heap.length > 0) {
      const top = heap[0]!;
      const wait = emit(top);
      if (wait !== undefined) await wait;
      if (top.tryNext() || (await top.next())) {
        down(0);
      } else {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      }
    }
  } finally {
    for (const fh of files) await fh.close();
  }
}
