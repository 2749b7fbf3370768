import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Storage } from '@google-cloud/storage';
import { type Encoding, type TextInfo, utf8Chunks } from './encoding.js';
import { decodedChunks, openInputFile, type InputSource } from './open-input.js';
import { BackfillError } from '../errors.js';
import { isGsUrl, listInputObjects, openObject, type GsObject } from '../gcs/read.js';
import { gsUrl } from '../gcs/url.js';
import { detectFormat, headDecides, type FormatChoice } from './format.js';
import type { InputFacts } from '../model/summary.js';
import { sha256File } from '../files/file-hash.js';

/** One thing the command line names: a file, standard input, or one object a gs:// input matched. */
type Physical = { kind: 'file'; path: string } | { kind: 'stdin'; source: InputSource } | { kind: 'gs'; object: GsObject };

/**
 * One stream of records: a file, standard input, a gs:// object, or one entry of a zip archive.
 * Rejects and the report name records by the unit's name and line (or row).
 */
export interface Unit {
  name: string;
  format: 'csv' | 'ndjson' | 'json' | 'parquet';
  /** the decoded (gunzipped) bytes of a csv/ndjson/json unit */
  chunks: AsyncIterable<Buffer> | undefined;
  /** a Parquet unit: a local file to read by row group */
  path: string | undefined;
  /** the facts of the physical input the unit belongs to (a CSV unit records its delimiter here) */
  fact: InputFacts;
  /** no bytes at all: no header for CSV, no records for JSON */
  empty?: boolean;
}

export interface SourceOptions {
  inputs: readonly string[];
  format: FormatChoice;
  /** where a zip or Parquet input that is not a plain local file is copied to be read from its end */
  spoolDir: string;
  /** standard input, when the input is "-" */
  stdin?: InputSource | undefined;
  /** GCS client, for gs:// inputs (loaded on demand: the client is heavy to start) */
  storage?: (() => Promise<Storage>) | undefined;
  /** every raw byte read, for progress */
  onBytes?: ((n: number) => void) | undefined;
  /** --encoding of the text inputs (utf-8 unless given): they reach the readers as checked UTF-8 */
  encoding?: Encoding | undefined;
}

const HEAD_MAX = 1 << 16;

/** The first bytes, enough to decide the format (or all of a short input), and the rest after them. */
async function peek(src: AsyncIterable<Buffer>): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> } | undefined> {
  const it = src[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let head: Buffer = Buffer.alloc(0);
  let done = false;
  while (!headDecides(head) && head.length < HEAD_MAX) {
    const n = await it.next();
    if (n.done === true) {
      done = true;
      break;
    }
    parts.push(n.value);
    head = parts.length === 1 ? n.value : Buffer.concat(parts);
  }
  if (head.length === 0 && done) return undefined;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    if (done) return;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value;
    }
  }
  return { head, rest: rest() };
}

/**
 * The inputs of a run as units, in order, opened one at a time: gs:// inputs listed (name order,
 * generations pinned), zip archives expanded into their entries (name order), gzip decoded by its
 * magic bytes and every format recognised by its first bytes. Each physical input's sha256 and
 * size are taken from its raw bytes as they stream past; a zip or Parquet input that is not a
 * plain local file (stdin, gs://, gzipped) is first copied into the spool directory, since both
 * formats are read from their end.
 */
export class Sources {
  private physical: Physical[] = [];
  private readonly hashes: { hash: Hash; fact: InputFacts; done: boolean }[] = [];
  /** total raw bytes, when every input's size is known */
  bytesTotal: number | undefined;
  private spooled = 0;

  private client: Storage | undefined;

  constructor(private readonly o: SourceOptions) {}

  private async storage(): Promise<Storage> {
    this.client ??= await this.o.storage!();
    return this.client;
  }

  /** Lists gs:// inputs and checks local paths; throws (before any output) when one cannot be read. */
  async expand(): Promise<void> {
    const out: Physical[] = [];
    let total: number | undefined = 0;
    for (const input of this.o.inputs) {
      if (input === '-') {
        if (this.o.stdin === undefined) throw new BackfillError('INPUT_UNREADABLE', 'standard input is not available here', 'Pass a file path instead of -.');
        out.push({ kind: 'stdin', source: this.o.stdin });
        total = undefined;
      } else if (isGsUrl(input)) {
        if (this.o.storage === undefined)
          throw new BackfillError(
            'CONFIG_INVALID',
            `input: ${input} needs Google Cloud Storage, which this command cannot reach`,
            'Run transform, preview or run from the command line.',
          );
        for (const object of await listInputObjects(await this.storage(), input)) {
          out.push({ kind: 'gs', object });
          if (total !== undefined) total += object.size;
        }
      } else {
        const probe = await openInputFile(input);
        probe.stream.destroy();
        out.push({ kind: 'file', path: input });
        if (total !== undefined) total += probe.bytes ?? 0;
      }
    }
    this.physical = out;
    this.bytesTotal = total;
  }

  /** How many physical inputs there are (zip entries not counted). */
  get count(): number {
    return this.physical.length;
  }

  /** Whether records may come from more than one unit (rejects then name the unit). */
  get several(): boolean {
    return this.physical.length > 1;
  }

  /** The facts of every physical input opened so far, each hash finished. */
  facts(): InputFacts[] {
    return this.hashes.map((h) => {
      if (!h.done) {
        h.fact.sha256 = h.hash.digest('hex');
        h.done = true;
      }
      return h.fact;
    });
  }

  private nameOf(p: Physical): string {
    return p.kind === 'file' ? p.path : p.kind === 'stdin' ? '-' : gsUrl(p.object);
  }

  /** The raw bytes of one physical input, hashed and counted as they pass. */
  private raw(p: Physical, client: Storage | undefined): { bytes: AsyncIterable<Buffer>; fact: InputFacts; gzipped: () => boolean } {
    const fact: InputFacts = { name: this.nameOf(p), bytes: 0, sha256: '', delimiter: '' };
    if (p.kind === 'gs') {
      fact.generation = p.object.generation;
      fact.crc32c = p.object.crc32c;
    }
    const entry = { hash: createHash('sha256'), fact, done: false };
    this.hashes.push(entry);
    let first: Buffer | undefined;
    const onBytes = this.o.onBytes;
    const stream: AsyncIterable<Buffer> =
      p.kind === 'file' ? fileChunks(p.path) : p.kind === 'stdin' ? (p.source.stream as AsyncIterable<Buffer>) : openObject(client!, p.object);
    async function* hashed(): AsyncGenerator<Buffer> {
      try {
        for await (const c of stream) {
          first ??= c;
          entry.hash.update(c);
          fact.bytes += c.length;
          onBytes?.(c.length);
          yield c;
        }
      } finally {
        if (stream instanceof Readable) stream.destroy();
      }
    }
    return { bytes: hashed(), fact, gzipped: () => first !== undefined && first[0] === 0x1f && first[1] === 0x8b };
  }

  /** Copies a stream to a file in the spool directory. */
  private async spool(chunks: AsyncIterable<Buffer>): Promise<string> {
    await mkdir(this.o.spoolDir, { recursive: true });
    const path = join(this.o.spoolDir, `input-${++this.spooled}`);
    await pipeline(Readable.from(chunks), createWriteStream(path));
    return path;
  }

  async *units(): AsyncGenerator<Unit> {
    for (const p of this.physical) {
      const { bytes, fact, gzipped } = this.raw(p, p.kind === 'gs' ? await this.storage() : undefined);
      const decoded = await peek(decodedChunks(bytes));
      if (decoded === undefined) {
        // an empty input: a CSV unit without a header, which the reader reports
        yield { name: fact.name, format: 'csv', chunks: emptyChunks(), path: undefined, fact, empty: true };
        continue;
      }
      const format = detectFormat(decoded.head, this.o.format);
      fact.format = format;
      if (format !== 'zip' && format !== 'parquet') {
        yield await this.textUnit(fact.name, decoded.rest, fact);
        continue;
      }
      let path: string;
      if (p.kind === 'file' && !gzipped()) {
        // read in place; the hash still needs every byte once
        for await (const _ of decoded.rest) void _;
        path = p.path;
      } else path = await this.spool(decoded.rest);
      if (format === 'parquet') {
        yield { name: fact.name, format: 'parquet', chunks: undefined, path, fact };
        continue;
      }
      yield* this.zipUnits(path, fact);
    }
  }

  /**
   * A text unit (CSV, NDJSON, JSON array): its bytes as checked UTF-8 (decoded from --encoding or
   * a UTF-16 byte-order mark), its format decided again from the decoded first bytes.
   */
  private async textUnit(name: string, bytes: AsyncIterable<Buffer>, fact: InputFacts): Promise<Unit> {
    const info: TextInfo = { csv: true };
    const text = await peek(utf8Chunks(bytes, { encoding: this.o.encoding ?? 'utf-8', name }, info));
    if (info.used !== undefined) fact.encoding = info.used;
    if (text === undefined) return { name, format: 'csv', chunks: emptyChunks(), path: undefined, fact, empty: true };
    const format = detectFormat(text.head, this.o.format) as Unit['format'];
    info.csv = format === 'csv';
    if (name === fact.name) fact.format = format;
    return { name, format, chunks: text.rest, path: undefined, fact };
  }

  private async *zipUnits(path: string, fact: InputFacts): AsyncGenerator<Unit> {
    // loaded on demand, like the Parquet reader: most runs read neither
    const { listZip } = await import('./zip.js');
    const zip = await listZip(path);
    fact.entries = zip.entries.map((e) => e.fileName);
    if (zip.skipped.length > 0) fact.skippedEntries = zip.skipped;
    try {
      for (const entry of zip.entries) {
        const name = `${fact.name}:${entry.fileName}`;
        const stream = await zip.open(entry);
        try {
          const decoded = await peek(decodedChunks(stream as AsyncIterable<Buffer>));
          if (decoded === undefined) {
            yield { name, format: 'csv', chunks: emptyChunks(), path: undefined, fact, empty: true };
            continue;
          }
          const format = detectFormat(decoded.head, this.o.format);
          if (format === 'zip')
            throw new BackfillError('INPUT_MALFORMED', `"${name}" is a zip archive inside a zip archive`, 'Unpack the outer archive and pass the inner ones.');
          if (format === 'parquet') yield { name, format, chunks: undefined, path: await this.spool(decoded.rest), fact };
          else yield await this.textUnit(name, decoded.rest, fact);
        } finally {
          stream.destroy();
        }
      }
    } finally {
      zip.close();
    }
  }

  /** Removes what was spooled. */
  async close(): Promise<void> {
    if (this.spooled > 0) await rm(this.o.spoolDir, { recursive: true, force: true });
  }
}

async function* emptyChunks(): AsyncGenerator<Buffer> {}

/** A local file's bytes; a read error names the file. */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const s = (await openInputFile(path)).stream;
  try {
    for await (const c of s as AsyncIterable<Buffer>) yield c;
  } catch (e) {
    throw new BackfillError(
      'INPUT_UNREADABLE',
      `cannot read input "${path}": ${(e as Error).message}`,
      'Check that the file is readable and complete, then run again.',
      { cause: e },
    );
  } finally {
    s.destroy();
  }
}

/**
 * What identifies each physical input for a resume, in the order a transform records them: a
 * gs:// object by its name and generation (a new upload under the same name is another input), a
 * local file by its sha256. Standard input cannot be compared (undefined).
 */
export async function inputIdentities(inputs: readonly string[], storage: () => Promise<Storage>): Promise<string[] | undefined> {
  if (inputs.includes('-')) return undefined;
  const out: string[] = [];
  for (const input of inputs) {
    if (isGsUrl(input)) for (const o of await listInputObjects(await storage(), input)) out.push(`${gsUrl(o)}#${o.generation}`);
    else out.push(await sha256File(input));
  }
  return out;
}
