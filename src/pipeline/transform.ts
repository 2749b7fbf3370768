import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { writeJsonAtomic } from './json-file.js';
import { join } from 'node:path';
import type { TransformConfig } from './transform-config.js';
import { decodedChunks, openInputFile, type InputSource } from '../csv/input.js';
import { resolveMapping, type ResolvedMapping } from '../csv/mapping.js';
import { PartWriter } from '../csv/part-writer.js';
import { RecordReader, readHeaderRecord } from '../csv/record-reader.js';
import { RejectsWriter } from '../csv/rejects-writer.js';
import { BackfillError } from '../errors.js';
import { processRow, type RowOptions } from '../events/row.js';
import { LEANPLUM_BATCH } from '../events/cost.js';
import { formatShard } from '../events/shard.js';
import { clampTargetOf, cutoffOf, staleAfterOf } from '../time/clamp.js';
import { formatDuration } from '../time/duration.js';
import { Tally } from './tally.js';
import { TransformOutput, type OutputResult, type PartWriterFactory } from './transform-output.js';
import { TOOL } from '../version.js';
import type { InputFacts, TransformSummary } from '../model/summary.js';
import type { RowObserver } from '../csv/row-observer.js';

export type { RowObserver } from '../csv/row-observer.js';
export type { InputFacts, TransformSummary } from '../model/summary.js';

export interface Progress {
  bytesRead: number;
  bytesTotal: number | undefined;
  rowsRead: number;
}

export interface TransformIO {
  /** an already open source (stdin); otherwise cfg.inputs are opened as files */
  source?: InputSource;
  observer?: RowObserver;
  onProgress?: (p: Progress) => void;
  /**
   * For tests only: faults placed between the counting points (reader, row step, writers), to
   * prove that the conservation check catches a row going missing there.
   */
  testSeams?: {
    /** sees every record between the reader and the row step; false loses it */
    passRecord?: (fields: readonly string[], line: number) => boolean;
    /** builds the clean CSV writer in place of `new PartWriter(dir, header, maxBytes, options)` */
    partWriter?: PartWriterFactory;
  };
}

export interface TransformResult {
  summary: TransformSummary;
  tally: Tally;
  mapping: ResolvedMapping;
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

function buildSummary(cfg: TransformConfig, t: Tally, m: ResolvedMapping, inputs: InputFacts[], out: OutputResult): TransformSummary {
  const r = cfg.rule;
  return {
    schemaVersion: 1,
    tool: TOOL,
    inputs,
    sampled: cfg.sample ?? null,
    config: {
      importAt: iso(r.importAt),
      maxDelay: formatDuration(r.maxDelay),
      clampAge: formatDuration(r.clampAge),
      clampMode: r.mode,
      cutoff: iso(cutoffOf(r)),
      clampTarget: iso(clampTargetOf(r)),
      staleAfter: iso(staleAfterOf(r)),
      futureTolerance: formatDuration(r.futureTolerance),
      minTime: iso(r.minTime),
      timeZone: cfg.zone,
      timeFormat: cfg.timeFormatText,
      mapping: m.columns,
      params: m.layout.params.map((p) => p.name),
      originalTimeParam: cfg.mapping.originalTimeParam ?? null,
      leftOutColumns: m.leftOut,
      dedupe: cfg.dedupe,
      valueIsTotal: cfg.valueIsTotal,
      maxRejectRate: cfg.maxRejectRate,
      order: cfg.order,
      shard: cfg.shard === undefined ? null : formatShard(cfg.shard),
      sortMemoryBytes: cfg.sortMemory,
    },
    counts: {
      read: t.read,
      kept: t.kept,
      rejected: t.rejected,
      rejectedByReason: t.rejectedByReason,
      dropped: t.dropped,
      droppedByReason: t.droppedByReason,
      occurrences: t.occurrences,
      written: t.written,
      lineIndexEntries: t.lineIndexEntries,
      expandedRows: t.expandedRows,
      clamped: t.clamped,
      clampedRows: t.clampedRows,
      nudgedToImportTime: t.nudged,
      naiveTimeRows: t.naiveRows,
      timeFormats: t.timeKinds,
      valuesNeedingQuotes: t.quoting.quoted,
    },
    rejectRate: t.rejectRate(),
    rejectRateExceeded: t.rejectRate() > cfg.maxRejectRate,
    conservation: t.conservation(),
    outputs: {
      clean: out.parts.map((p) => ({ ...p })),
      rejects: 'rejects.csv',
      usersSplitAcrossParts: { count: out.usersSplitAcrossParts.count, sample: out.usersSplitAcrossParts.sample.map((x) => ({ ...x })) },
      rowsMovedToKeepUsersTogether: out.rowsMovedToKeepUsersTogether,
    },
    cost: {
      batchSize: LEANPLUM_BATCH,
      order: cfg.order,
      billableLookups: out.billableLookups,
      billableLookupsInInputOrder: out.billableLookupsInInputOrder,
      inputOrderCountedBeforeDedupe: cfg.order === 'user' && cfg.dedupe,
      distinctUsers: out.distinctUsers,
    },
    sort: out.sort === null ? null : { memoryBytes: cfg.sortMemory, ...out.sort },
  };
}


/** Input bytes handed to the reader at a time; see the read loop. */
const SLICE = 1 << 16;

/** Every input, opened; from the second on, the header must equal the first one's. */
async function openInputs(cfg: TransformConfig, io: TransformIO): Promise<InputSource[]> {
  if (io.source) return [io.source];
  if (cfg.inputs.length > 1) {
    // checked before anything is written: a mismatch is an input problem, not a row problem
    let first: string[] | undefined;
    for (const path of cfg.inputs) {
      const probe = await openInputFile(path);
      const header = await readHeaderRecord(decodedChunks(probe.stream as AsyncIterable<Buffer>), { delimiter: cfg.delimiter, maxRecordBytes: cfg.maxRecordBytes, name: path });
      probe.stream.destroy();
      if (header === undefined) throw new BackfillError('INPUT_MALFORMED', `the input "${path}" is empty: expected a header row`, 'Check that the export finished writing, or leave the file out.');
      const norm = header.map((h) => h.trim()).join(',');
      if (first === undefined) first = header;
      else if (norm !== first.map((h) => h.trim()).join(',')) {
        throw new BackfillError('BAD_HEADER', `the inputs do not share one header.\n${cfg.inputs[0]}: ${first.join(',')}\n${path}: ${header.join(',')}`, 'Transform files with different layouts in separate runs (each with its own --map).');
      }
    }
  }
  const out: InputSource[] = [];
  for (const path of cfg.inputs) out.push(await openInputFile(path));
  return out;
}

/**
 * Streams the inputs once, one after the other: every record goes through the pure row step,
 * kept rows to the clean CSV, rejected ones to rejects.csv, and everything is counted. Outputs
 * are created only once the header has been accepted, so a configuration problem leaves nothing.
 * Memory stays bounded: the reader caps a record at --max-record-bytes, and the row step waits
 * for a writer whenever one says its buffer is full, also in the middle of an expanded row.
 */
export async function runTransform(cfg: TransformConfig, io: TransformIO = {}): Promise<TransformResult> {
  const sources = await openInputs(cfg, io);
  const names = sources.map((s) => s.name);
  const bytesTotal = sources.every((s) => s.bytes !== undefined) ? sources.reduce((n, s) => n + s.bytes!, 0) : undefined;
  const tally = new Tally();
  const opts: RowOptions = { rule: cfg.rule, timeFormat: cfg.timeFormat, zone: cfg.zone, maxCount: cfg.maxCount, valueIsTotal: cfg.valueIsTotal };
  const observer = io.observer;
  const passRecord = io.testSeams?.passRecord;
  const newPartWriter = io.testSeams?.partWriter ?? ((dir: string, header: string, maxBytes: number, options) => new PartWriter(dir, header, maxBytes, options));
  let mapping: ResolvedMapping | undefined;
  let output: TransformOutput | undefined;
  let rejects: RejectsWriter | undefined;
  let header: string[] | undefined;
  let stop = false;
  let bytesRead = 0;
  const facts: InputFacts[] = [];

  const openOutputs = (h: string[], m: ResolvedMapping) => {
    output = new TransformOutput(cfg, m, tally, observer, names, newPartWriter);
    rejects = new RejectsWriter(join(cfg.outDir, 'rejects.csv'), h, sources.length > 1);
  };

  // The records of one input chunk, from the reader to the row step. csv-parse calls the reader
  // synchronously, and the row step may have to wait for a writer, so the step takes them after.
  const batchFields: string[][] = [];
  const batchLines: number[] = [];
  const onRecord = (fields: string[], line: number): void => {
    batchFields.push(fields);
    batchLines.push(line);
  };

  await mkdir(cfg.outDir, { recursive: true });
  let lastProgress = 0;
  /** data records read from the inputs before the current one */
  let readBefore = 0;
  for (let fileIndex = 0; fileIndex < sources.length && !stop; fileIndex++) {
    const source = sources[fileIndex]!;
    const file = source.name;
    let fileHeaderSeen = false;

    /** The row step for one record: decides, counts, and writes; a promise when a writer must drain first. */
    const step = (fields: string[], line: number): Promise<void> | undefined => {
      if (!fileHeaderSeen) {
        fileHeaderSeen = true;
        if (header === undefined) {
          header = fields;
          mapping = resolveMapping(fields, cfg.mapping);
          observer?.start?.(fields, mapping, names);
        }
        return undefined;
      }
      if (output === undefined) openOutputs(header!, mapping!);
      const r = processRow(fields, mapping!.layout, opts);
      // shard, dedupe, counting and writing (or sorting) of kept rows: transform-output.ts
      if (r.kind === 'kept') return output!.kept(r, fields, fileIndex, line);
      if (r.kind === 'rejected') {
        tally.onRejected(r.reason);
        observer?.rejected?.(fields, line, r.reason, r.message, file);
        return rejects!.add(file, line, r.reason, r.message, fields) ? rejects!.flush() : undefined;
      }
      tally.onDropped(r.reason);
      observer?.dropped?.(fields, line, r.reason, file);
      return undefined;
    };

    const takeBatch = async (): Promise<void> => {
      for (let i = 0; i < batchFields.length; i++) {
        const fields = batchFields[i]!;
        const line = batchLines[i]!;
        if (passRecord !== undefined && !passRecord(fields, line)) continue;
        const wait = step(fields, line);
        if (wait !== undefined) await wait;
      }
      batchFields.length = 0;
      batchLines.length = 0;
    };

    const reader = new RecordReader(onRecord, { delimiter: cfg.delimiter, maxRecordBytes: cfg.maxRecordBytes, name: file });
    // --sample: the reader hands over this file's header and no more rows than are still wanted
    if (cfg.sample !== undefined) reader.limit = 1 + cfg.sample - readBefore;
    const readHere = () => Math.max(0, reader.records - 1);
    const hash = createHash('sha256');
    let fileBytes = 0;
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const c of source.stream as AsyncIterable<Buffer>) {
        hash.update(c);
        fileBytes += c.length;
        bytesRead += c.length;
        yield c;
      }
    }
    for await (const chunk of decodedChunks(hashed())) {
      // Fed in slices so a batch's records die young: records held across a whole 256 KB chunk
      // of row work outlive young-generation GC and fill the old heap (10× the promoted bytes).
      for (let at = 0; at < chunk.length && !stop; at += SLICE) {
        reader.write(at === 0 && chunk.length <= SLICE ? chunk : chunk.subarray(at, at + SLICE));
        await takeBatch();
        stop = reader.records >= reader.limit;
      }
      if (io.onProgress !== undefined && Date.now() - lastProgress > 200) {
        lastProgress = Date.now();
        io.onProgress({ bytesRead, bytesTotal, rowsRead: readBefore + readHere() });
      }
      if (stop) break;
    }
    if (!stop) {
      reader.end();
      await takeBatch();
      stop = reader.records >= reader.limit;
    }
    if (!fileHeaderSeen) {
      throw new BackfillError('INPUT_MALFORMED', `the input "${file}" is empty: expected a header row with userId, event and time columns`, 'Check that the export finished writing.');
    }
    readBefore += readHere();
    facts.push({ name: file, bytes: fileBytes, sha256: hash.digest('hex'), delimiter: reader.delimiter ?? ',' });
  }
  for (const s of sources.slice(facts.length)) s.stream.destroy();
  if (output === undefined) openOutputs(header!, mapping!); // a header with no rows: still a complete, empty run
  const out = await output!.finish();
  await rejects!.end();
  // each side of the conservation laws from the place that did the work
  tally.read = readBefore;
  tally.written = out.written;
  tally.lineIndexEntries = out.lineIndexEntries;
  io.onProgress?.({ bytesRead, bytesTotal, rowsRead: tally.read });

  const summary = buildSummary(cfg, tally, mapping!, facts, out);
  await writeJsonAtomic(join(cfg.outDir, 'summary.json'), summary);
  if (!summary.conservation.ok) {
    throw new BackfillError('CONSERVATION', `row conservation failed: ${summary.conservation.rows}; ${summary.conservation.occurrences}`, 'This is a bug in lp-backfill; please report it with summary.json.');
  }
  return { summary, tally, mapping: mapping! };
}
