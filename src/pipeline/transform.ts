import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { writeJsonAtomic } from './json-file.js';
import { join } from 'node:path';
import type { TransformConfig } from './transform-config.js';
import { decodedChunks, openInputFile, type InputSource } from '../csv/input.js';
import { resolveMapping, type ResolvedMapping } from '../csv/mapping.js';
import { PartWriter } from '../csv/part-writer.js';
import { LineIndexWriter } from '../csv/line-index.js';
import { RecordReader, readHeaderRecord } from '../csv/record-reader.js';
import { RejectsWriter } from '../csv/rejects-writer.js';
import { csvLine, csvTail } from '../csv/write.js';
import { BackfillError } from '../errors.js';
import { dedupeKey, processRow, type KeptRow, type RowOptions } from '../events/row.js';
import type { DropReason, RejectReason } from '../events/reasons.js';
import { clampTargetOf, cutoffOf, staleAfterOf } from '../time/clamp.js';
import { formatDuration } from '../time/duration.js';
import { Tally } from './tally.js';
import { TOOL } from '../version.js';

/** Optional listeners that see every row (the report collector is one); `file` names the input. */
export interface RowObserver {
  start?(header: readonly string[], mapping: ResolvedMapping, inputs: readonly string[]): void;
  kept?(row: KeptRow, line: number, file: string): void;
  rejected?(fields: readonly string[], line: number, reason: RejectReason, message: string, file: string): void;
  dropped?(fields: readonly string[], line: number, reason: DropReason, file: string): void;
}

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
}

export interface TransformResult {
  summary: TransformSummary;
  tally: Tally;
  mapping: ResolvedMapping;
}

export type TransformSummary = ReturnType<typeof buildSummary>;

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export interface InputFacts {
  name: string;
  bytes: number;
  sha256: string;
  delimiter: string;
}

function buildSummary(cfg: TransformConfig, t: Tally, m: ResolvedMapping, inputs: InputFacts[], parts: PartWriter['parts']) {
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
    outputs: { clean: parts.map((p) => ({ ...p })), rejects: 'rejects.csv' },
  };
}


/** Every input, opened; from the second on, the header must equal the first one's. */
async function openInputs(cfg: TransformConfig, io: TransformIO): Promise<InputSource[]> {
  if (io.source) return [io.source];
  if (cfg.inputs.length > 1) {
    // checked before anything is written: a mismatch is an input problem, not a row problem
    let first: string[] | undefined;
    for (const path of cfg.inputs) {
      const probe = await openInputFile(path);
      const header = await readHeaderRecord(decodedChunks(probe.stream as AsyncIterable<Buffer>), cfg.delimiter);
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
 */
export async function runTransform(cfg: TransformConfig, io: TransformIO = {}): Promise<TransformResult> {
  const sources = await openInputs(cfg, io);
  const names = sources.map((s) => s.name);
  const bytesTotal = sources.every((s) => s.bytes !== undefined) ? sources.reduce((n, s) => n + s.bytes!, 0) : undefined;
  const tally = new Tally();
  const opts: RowOptions = { rule: cfg.rule, timeFormat: cfg.timeFormat, zone: cfg.zone, maxCount: cfg.maxCount, valueIsTotal: cfg.valueIsTotal };
  const origParam = cfg.mapping.originalTimeParam !== undefined;
  const seen = cfg.dedupe ? new Set<string>() : undefined;
  const observer = io.observer;
  let mapping: ResolvedMapping | undefined;
  let clean: PartWriter | undefined;
  let rejects: RejectsWriter | undefined;
  let lines: LineIndexWriter | undefined;
  let header: string[] | undefined;
  let stop = false;
  let bytesRead = 0;
  const facts: InputFacts[] = [];

  const openOutputs = (h: string[], m: ResolvedMapping) => {
    clean = new PartWriter(cfg.outDir, csvLine(m.outputHeader), cfg.maxPartBytes);
    rejects = new RejectsWriter(join(cfg.outDir, 'rejects.csv'), h, sources.length > 1);
    lines = new LineIndexWriter(join(cfg.outDir, 'clean.lines'));
  };

  await mkdir(cfg.outDir, { recursive: true });
  let lastProgress = 0;
  for (let fileIndex = 0; fileIndex < sources.length && !stop; fileIndex++) {
    const source = sources[fileIndex]!;
    const file = source.name;
    let fileHeaderSeen = false;

    // Occurrences of one row differ only in time: quote the rest once and reuse it.
    const writeKept = (row: KeptRow, line: number): void => {
      const layout = mapping!.layout;
      const head = csvTail([row.userId, row.event], tally.quoting).slice(1) + ',';
      const rest = [];
      if (layout.value >= 0) rest.push(row.value);
      if (layout.currencyCode >= 0) rest.push(row.currencyCode);
      const tail = csvTail(rest.length === 0 ? row.params : rest.concat(row.params), tally.quoting);
      for (const o of row.occurrences) {
        const orig = origParam ? ',' + (o.change === 'clamped' ? iso(o.original) : '') : '';
        clean!.add(head + o.time + tail + orig + '\n');
        lines!.add(fileIndex, line);
      }
      tally.onWritten(row.occurrences.length);
    };

    const onRecord = (fields: string[], line: number): void => {
      if (stop) return;
      if (!fileHeaderSeen) {
        fileHeaderSeen = true;
        if (header === undefined) {
          header = fields;
          mapping = resolveMapping(fields, cfg.mapping);
          observer?.start?.(fields, mapping, names);
        }
        return;
      }
      if (clean === undefined) openOutputs(header!, mapping!);
      const r = processRow(fields, mapping!.layout, opts);
      if (r.kind === 'kept') {
        if (seen !== undefined) {
          const key = dedupeKey(r);
          if (seen.has(key)) {
            tally.onDropped('duplicate');
            observer?.dropped?.(fields, line, 'duplicate', file);
            return;
          }
          seen.add(key);
        }
        tally.onKept(r);
        writeKept(r, line);
        observer?.kept?.(r, line, file);
      } else if (r.kind === 'rejected') {
        tally.onRejected(r.reason);
        rejects!.add(file, line, r.reason, r.message, fields);
        observer?.rejected?.(fields, line, r.reason, r.message, file);
      } else {
        tally.onDropped(r.reason);
        observer?.dropped?.(fields, line, r.reason, file);
      }
      if (cfg.sample !== undefined && tally.read >= cfg.sample) stop = true;
    };

    const reader = new RecordReader(onRecord, cfg.delimiter);
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
      reader.write(chunk);
      if (clean !== undefined) {
        await clean.flush();
        await rejects!.flush();
        await lines!.flush();
      }
      if (io.onProgress !== undefined && Date.now() - lastProgress > 200) {
        lastProgress = Date.now();
        io.onProgress({ bytesRead, bytesTotal, rowsRead: tally.read });
      }
      if (stop) break;
    }
    if (!stop) reader.end();
    if (!fileHeaderSeen) {
      throw new BackfillError('INPUT_MALFORMED', `the input "${file}" is empty: expected a header row with userId, event and time columns`, 'Check that the export finished writing.');
    }
    facts.push({ name: file, bytes: fileBytes, sha256: hash.digest('hex'), delimiter: reader.delimiter ?? ',' });
  }
  for (const s of sources.slice(facts.length)) s.stream.destroy();
  if (clean === undefined) openOutputs(header!, mapping!); // a header with no rows: still a complete, empty run
  await clean!.end();
  await rejects!.end();
  await lines!.end();
  io.onProgress?.({ bytesRead, bytesTotal, rowsRead: tally.read });

  const summary = buildSummary(cfg, tally, mapping!, facts, clean!.parts);
  await writeJsonAtomic(join(cfg.outDir, 'summary.json'), summary);
  if (!summary.conservation.ok) {
    throw new BackfillError('CONSERVATION', `row conservation failed: ${summary.conservation.rows}; ${summary.conservation.occurrences}`, 'This is a bug in lp-backfill; please report it with summary.json.');
  }
  return { summary, tally, mapping: mapping! };
}
