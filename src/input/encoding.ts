// Text inputs as UTF-8 bytes, or a stop (issue 16): a byte that is not UTF-8 is never replaced
// with U+FFFD (that merged users `Jos\xE9` and `Jos\xE8` into one). Every text input (CSV, NDJSON,
// JSON arrays; files, stdin, gs://, gzipped or zip entries) passes through `utf8Chunks` before its
// reader. UTF-8, the default, is only checked: the chunks pass through untouched, and the check is
// Node's SIMD `isUtf8` over each chunk (a character cut between two chunks is checked on its own);
// only when a chunk fails is the exact byte and line looked for. Other encodings (--encoding) are
// decoded into UTF-8 first (UTF-16 with Node's TextDecoder).
import { isAscii, isUtf8 } from 'node:buffer';
import { BackfillError } from '../errors.js';
import { shown } from './shown.js';

export const ENCODINGS = ['utf-8', 'latin1', 'windows-1252', 'utf-16le', 'utf-16be'] as const;
export type Encoding = (typeof ENCODINGS)[number];

const ALIASES: Readonly<Record<string, Encoding>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  latin1: 'latin1',
  'latin-1': 'latin1',
  'iso-8859-1': 'latin1',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'utf-16le': 'utf-16le',
  utf16le: 'utf-16le',
  'utf-16be': 'utf-16be',
  utf16be: 'utf-16be',
};

/** --encoding's value (any case; utf8, iso-8859-1, cp1252, utf16le, utf16be are read as their names above), or undefined. */
export function parseEncoding(text: string): Encoding | undefined {
  return ALIASES[text.trim().toLowerCase()];
}

const FIX = '--encoding windows-1252|latin1|utf-16le|utf-16be';

const isCont = (b: number) => (b & 0xc0) === 0x80;

/** Bytes in a UTF-8 sequence that starts with this byte (0: it cannot start one). */
function seqLen(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

/** How many bytes from `at` form a well-formed start of a sequence (Unicode's "maximal subpart"); 0 when buf[at] cannot start one. */
function wellFormedPrefix(buf: Uint8Array, at: number, to: number): number {
  const b = buf[at]!;
  const n = seqLen(b);
  if (n <= 1) return n;
  // the second byte's range excludes overlong forms, surrogates and code points past U+10FFFF
  const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  let k = 1;
  for (; k < n && at + k < to; k++) {
    const c = buf[at + k]!;
    if (k === 1 ? c < lo || c > hi : !isCont(c)) break;
  }
  return k;
}

/**
 * The index of the first byte of the first ill-formed UTF-8 sequence in [from, to), or -1 (the
 * same judgement as `isUtf8`). With `final` false, a well-formed sequence cut off at `to` is not
 * ill-formed (its rest may come in the next chunk).
 */
export function firstInvalidUtf8(buf: Uint8Array, from = 0, to = buf.length, final = true): number {
  let i = from;
  while (i < to) {
    if (buf[i]! < 0x80) {
      i++;
      continue;
    }
    const n = seqLen(buf[i]!);
    if (n === 0) return i;
    const k = wellFormedPrefix(buf, i, to);
    if (k === n) i += n;
    else if (!final && k > 0 && i + k === to) return -1;
    else return i;
  }
  return -1;
}

/** The ill-formed bytes at `at` (where firstInvalidUtf8 pointed): the well-formed start they have, at least one byte. */
export function invalidLength(buf: Uint8Array, at: number, to = buf.length): number {
  return Math.max(1, Math.min(wellFormedPrefix(buf, at, to), to - at));
}

const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/** Bytes as a message shows them: UTF-8 text escaped as `shown` does, every byte that is not UTF-8 as \xHH; cut at `max` characters. */
export function shownBytes(buf: Uint8Array, max = 120): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let out = '';
  let at = 0;
  while (at < b.length && out.length < max) {
    const bad = firstInvalidUtf8(b, at);
    const end = bad < 0 ? b.length : bad;
    out += shown(b.toString('utf8', at, end), Number.MAX_SAFE_INTEGER);
    if (bad < 0) break;
    const n = invalidLength(b, bad);
    for (let k = 0; k < n; k++) out += `\\x${hex(b[bad + k]!)}`;
    at = bad + n;
  }
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/**
 * UTF-16 without a byte-order mark, recognised by its NUL bytes: text in Latin script has a 0 in
 * every other byte (the odd ones for little-endian), which UTF-8 text never has.
 */
export function guessUtf16(head: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(head.length, 1024) & ~1;
  if (n < 4) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  const pairs = n / 2;
  if (odd * 2 >= pairs && even * 8 < pairs) return 'utf-16le';
  if (even * 2 >= pairs && odd * 8 < pairs) return 'utf-16be';
  return undefined;
}

/** The encoding a byte-order mark names, and its length. */
function bomOf(head: Uint8Array): { encoding: Encoding; length: number } | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

export interface TextOptions {
  /** --encoding (utf-8 unless given) */
  encoding: Encoding;
  /** the input's name, for messages */
  name: string;
}

/**
 * Filled in as the input is read: `csv` is set by the caller once the format is known (a CSV
 * line also ends at a lone CR, a JSON one only at LF), `used` says what was decoded (a UTF-16
 * byte-order mark decides over the default).
 */
export interface TextInfo {
  csv: boolean;
  used?: string;
}

/** Physical lines and the absolute offset, counted over the bytes that have passed a check. */
class Position {
  /** bytes before the current chunk */
  offset = 0;
  lf = 0;
  loneCr = 0;
  private crAtEnd = false;

  /** Counts the line ends of bytes [0, to) of a chunk whose earlier bytes were not counted yet. */
  count(buf: Uint8Array, to: number, lf: number, cr: number): void {
    const b = buf as Buffer;
    if (this.crAtEnd && to > 0 && buf[0] !== lf) this.loneCr++;
    if (to > 0) this.crAtEnd = false;
    for (let i = b.indexOf(lf); i >= 0 && i < to; i = b.indexOf(lf, i + 1)) this.lf++;
    for (let i = b.indexOf(cr); i >= 0 && i < to; i = b.indexOf(cr, i + 1)) {
      if (i + 1 < to) {
        if (buf[i + 1] !== lf) this.loneCr++;
      } else this.crAtEnd = true;
    }
  }

  line(info: TextInfo): number {
    return 1 + this.lf + (info.csv ? this.loneCr + (this.crAtEnd ? 1 : 0) : 0);
  }
}

function utf8Error(o: TextOptions, info: TextInfo, pos: Position, bytes: Uint8Array, at: number, context: Uint8Array): BackfillError {
  const n = invalidLength(bytes, at);
  const seq = Array.from(bytes.subarray(at, at + n), hex).join(' ');
  const b = bytes[at]!;
  const guess =
    n !== 1 || b < 0x80
      ? ''
      : b <= 0x9f
        ? ` (a single byte like this is typical of windows-1252, where it is "${WINDOWS_1252[b - 0x80]}")`
        : ' (a single byte like this is typical of windows-1252 or latin1)';
  return new BackfillError(
    'INPUT_MALFORMED',
    `"${shown(o.name)}" is not valid UTF-8: line ${pos.line(info)}, byte offset ${pos.offset + at}: ${n === 1 ? 'byte' : 'bytes'} ${seq}${guess}, in "${shownBytes(context)}"`,
    `Name the file's encoding: ${FIX} (spreadsheet exports from Windows are usually windows-1252), or convert the file to UTF-8 (e.g. iconv -f WINDOWS-1252 -t UTF-8). No byte is ever replaced; see docs/inputs-encoding.md.`,
  );
}

/** Up to 60 bytes of the line around `at` (from its start when that is in this chunk). */
function around(buf: Uint8Array, at: number): Uint8Array {
  let s = at;
  while (s > 0 && at - s < 60 && buf[s - 1] !== 10 && buf[s - 1] !== 13) s--;
  let e = at + 1;
  while (e < buf.length && e - at < 40 && buf[e] !== 10 && buf[e] !== 13) e++;
  return buf.subarray(s, e);
}

/** UTF-8 chunks checked, passed through as they are. */
async function* checkedUtf8(chunks: AsyncIterable<Buffer>, o: TextOptions, info: TextInfo): AsyncGenerator<Buffer> {
  const pos = new Position();
  /** the start of a character cut off at the end of the last chunk (at most 3 bytes) */
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    let start = 0;
    if (carry !== undefined) {
      const need = seqLen(carry[0]!);
      const take = Math.min(need - carry.length, chunk.length);
      const piece = Buffer.concat([carry, chunk.subarray(0, take)]);
      const carryStart = pos.offset - carry.length;
      if (piece.length < need) {
        if (firstInvalidUtf8(piece, 0, piece.length, false) >= 0) {
          pos.offset = carryStart;
          throw utf8Error(o, info, pos, piece, 0, piece);
        }
        carry = piece;
        pos.offset += chunk.length;
        yield chunk;
        continue;
      }
      if (!isUtf8(piece)) {
        pos.offset = carryStart;
        throw utf8Error(o, info, pos, piece, 0, Buffer.concat([carry, chunk.subarray(0, 40)]));
      }
      carry = undefined;
      start = take;
    }
    const cut = incompleteTail(chunk, start);
    if (!isUtf8(chunk.subarray(start, cut))) {
      const at = firstInvalidUtf8(chunk, start, cut);
      pos.count(chunk, at, 10, 13);
      throw utf8Error(o, info, pos, chunk, at, around(chunk, at));
    }
    pos.count(chunk, chunk.length, 10, 13);
    pos.offset += chunk.length;
    if (cut < chunk.length) carry = Buffer.from(chunk.subarray(cut));
    yield chunk;
  }
  if (carry !== undefined) {
    pos.offset -= carry.length;
    throw utf8Error(o, info, pos, carry, 0, carry);
  }
}

/** Where a character cut off at the end of [from, len) starts, or len when the bytes end on a whole character (or on bytes isUtf8 refuses anyway). */
function incompleteTail(buf: Buffer, from: number): number {
  const len = buf.length;
  for (let k = 1; k <= 3 && len - k >= from; k++) {
    const b = buf[len - k]!;
    if (isCont(b)) continue;
    return seqLen(b) > k ? len - k : len;
  }
  return len;
}

/**
 * windows-1252's characters for the bytes 0x80–0x9F (the WHATWG Encoding table; the five bytes it
 * leaves undefined stay the code point of their value). Written out because Node 20's
 * TextDecoder('windows-1252') decodes these bytes as latin1 does.
 */
const WINDOWS_1252 = Array.from(
  [
    0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
    0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
  ],
  (c) => String.fromCharCode(c),
);
const C1 = /[\u0080-\u009f]/g;

/**
 * latin1 (ISO-8859-1: each byte is the code point of its value) and windows-1252 decode every
 * byte; nothing can fail. A chunk that has characters past ASCII and is valid UTF-8 is UTF-8,
 * though: read as latin1, "é" would silently become "Ã©", so that stops the run.
 */
async function* singleByte(chunks: AsyncIterable<Buffer>, encoding: 'latin1' | 'windows-1252', o: TextOptions, info: TextInfo): AsyncGenerator<Buffer> {
  const pos = new Position();
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (!isAscii(chunk) && isUtf8(chunk.subarray(0, incompleteTail(chunk, 0)))) {
      const at = chunk.findIndex((b) => b >= 0x80);
      pos.count(chunk, at, 10, 13);
      throw new BackfillError(
        'INPUT_MALFORMED',
        `"${shown(o.name)}" looks like UTF-8, but --encoding ${encoding} was given: line ${pos.line(info)}, byte offset ${pos.offset + at} starts the UTF-8 character "${shown(chunk.toString('utf8', at, at + invalidLength(chunk, at)))}", in "${shownBytes(around(chunk, at))}"`,
        `Leave out --encoding (UTF-8 is the default): read as ${encoding}, "é" would become "Ã©". Nothing was replaced or written past this point.`,
      );
    }
    // latin1 maps 0x80–0x9F to invisible C1 control characters, which no export means: such a byte
    // is windows-1252 (€, ’, “ …). Read as latin1 it would go into ids and names unseen.
    const c1 = encoding === 'latin1' ? chunk.findIndex((b) => b >= 0x80 && b <= 0x9f) : -1;
    if (c1 >= 0) {
      pos.count(chunk, c1, 10, 13);
      throw new BackfillError(
        'INPUT_MALFORMED',
        `"${shown(o.name)}" has byte ${hex(chunk[c1]!)} at line ${pos.line(info)}, byte offset ${pos.offset + c1}, which latin1 reads as an invisible control character, in "${shownBytes(around(chunk, c1))}"`,
        `This is windows-1252 (where ${hex(chunk[c1]!)} is "${WINDOWS_1252[chunk[c1]! - 0x80]}"): give --encoding windows-1252. Nothing was written past this point.`,
      );
    }
    pos.count(chunk, chunk.length, 10, 13);
    pos.offset += chunk.length;
    const text = chunk.toString('latin1');
    yield Buffer.from(encoding === 'latin1' ? text : text.replace(C1, (c) => WINDOWS_1252[c.charCodeAt(0) - 0x80]!), 'utf8');
  }
}

/**
 * UTF-16 decoded with TextDecoder (fatal), after a scan of its code units: an unpaired surrogate
 * or a last odd byte stops the run with its line and byte offset, as for UTF-8.
 */
async function* utf16(chunks: AsyncIterable<Buffer>, encoding: 'utf-16le' | 'utf-16be', bom: number, o: TextOptions, info: TextInfo): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  const le = encoding === 'utf-16le';
  /** raw bytes seen, the byte-order mark included */
  let total = 0;
  let toSkip = bom;
  let lf = 0;
  let loneCr = 0;
  let prevCr = false;
  let carry: Buffer | undefined;
  const fail = (at: number, bytes: Buffer, what: string): never => {
    const line = 1 + lf + (info.csv ? loneCr + (prevCr ? 1 : 0) : 0);
    throw new BackfillError(
      'INPUT_MALFORMED',
      `"${shown(o.name)}" is not valid ${encoding.toUpperCase()}: line ${line}, byte offset ${at}: ${what} (bytes ${Array.from(bytes.subarray(0, 4), hex).join(' ')})`,
      `Nothing was replaced or written past this point. Check that the file is ${encoding.toUpperCase()} (${FIX}), or convert it to UTF-8. See docs/inputs-encoding.md.`,
    );
  };
  for await (const raw of chunks) {
    let chunk = raw;
    if (toSkip > 0) {
      const n = Math.min(toSkip, chunk.length);
      chunk = chunk.subarray(n);
      toSkip -= n;
      total += n;
    }
    const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    /** the absolute offset of buf[0] */
    const base = total - (carry?.length ?? 0);
    total += chunk.length;
    const even = buf.length & ~1;
    let stop = even;
    for (let i = 0; i < even; i += 2) {
      const u = le ? buf[i]! | (buf[i + 1]! << 8) : (buf[i]! << 8) | buf[i + 1]!;
      if (u < 0xd800 || u > 0xdfff) {
        if (u === 10) {
          lf++;
          prevCr = false;
        } else {
          if (prevCr) loneCr++;
          prevCr = u === 13;
        }
        continue;
      }
      if (prevCr) loneCr++;
      prevCr = false;
      const name = u.toString(16).toUpperCase();
      if (u >= 0xdc00) fail(base + i, buf.subarray(i), `a low surrogate ${name} without a high one before it`);
      if (i + 2 >= even) {
        stop = i; // the pair's second half comes with the next chunk
        break;
      }
      const v = le ? buf[i + 2]! | (buf[i + 3]! << 8) : (buf[i + 2]! << 8) | buf[i + 3]!;
      if (v < 0xdc00 || v > 0xdfff) fail(base + i, buf.subarray(i), `a high surrogate ${name} without a low one after it`);
      i += 2;
    }
    carry = stop < buf.length ? Buffer.from(buf.subarray(stop)) : undefined;
    if (stop > 0) yield Buffer.from(decoder.decode(buf.subarray(0, stop)), 'utf8');
  }
  if (carry !== undefined) fail(total - carry.length, carry, carry.length === 1 ? 'the input ends with an odd byte' : 'the input ends inside a surrogate pair');
}

/** The first bytes, at least `want` of them unless the input is shorter, and all the chunks again. */
async function head(chunks: AsyncIterable<Buffer>, want: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = chunks[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < want) {
    const n = await it.next();
    if (n.done === true) {
      done = true;
      break;
    }
    parts.push(n.value);
    length += n.value.length;
  }
  const first = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value;
    }
  }
  return { head: first, all: all() };
}

/**
 * A text input's bytes (gunzipped) as UTF-8: checked when UTF-8 (the chunks pass through as they
 * are), decoded otherwise. A UTF-16 byte-order mark decides over the default; one that contradicts
 * --encoding, UTF-16 without a mark read as UTF-8, or text that is clearly UTF-8 read as latin1 or
 * windows-1252 stop the run before any record is read.
 */
export async function* utf8Chunks(chunks: AsyncIterable<Buffer>, o: TextOptions, info: TextInfo): AsyncGenerator<Buffer> {
  const { head: first, all } = await head(chunks, 1024);
  if (first.length === 0) return;
  const bom = bomOf(first);
  const e = o.encoding;
  const name = `"${shown(o.name)}"`;
  if (e === 'utf-8') {
    if (bom !== undefined && bom.encoding !== 'utf-8') {
      info.used = `${bom.encoding} (byte-order mark)`;
      yield* utf16(all, bom.encoding as 'utf-16le' | 'utf-16be', bom.length, o, info);
      return;
    }
    const guess = bom === undefined ? guessUtf16(first) : undefined;
    if (guess !== undefined) {
      throw new BackfillError(
        'INPUT_MALFORMED',
        `${name} looks like ${guess.toUpperCase()} without a byte-order mark (every other byte of its first bytes is 0); add --encoding ${guess}`,
        `Run again with --encoding ${guess}, or convert the file to UTF-8. Nothing was read. See docs/inputs-encoding.md.`,
      );
    }
    yield* checkedUtf8(all, o, info);
    return;
  }
  if (bom !== undefined && bom.encoding !== e) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `${name} starts with a ${bom.encoding.toUpperCase()} byte-order mark, but --encoding ${e} was given`,
      bom.encoding === 'utf-8'
        ? 'The file says it is UTF-8: leave out --encoding. Nothing was read.'
        : `The file says it is ${bom.encoding.toUpperCase()}: use --encoding ${bom.encoding} (or leave it out; the mark decides then). Nothing was read.`,
    );
  }
  info.used = e;
  if (e === 'utf-16le' || e === 'utf-16be') {
    yield* utf16(all, e, bom?.length ?? 0, o, info);
    return;
  }
  const guess = guessUtf16(first);
  if (guess !== undefined) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `${name} looks like ${guess.toUpperCase()} (every other byte of its first bytes is 0), but --encoding ${e} was given`,
      `Use --encoding ${guess}. Nothing was read. See docs/inputs-encoding.md.`,
    );
  }
  yield* singleByte(all, e, o, info);
}
