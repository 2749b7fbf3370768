import { makeDirs } from '../files/make-dirs.js';
import { writeJsonAtomic } from '../files/json-file.js';
import { join } from 'node:path';
import type { TransformConfig } from './transform-config.js';
import type { Storage } from '@google-cloud/storage';
import type { InputSource } from '../input/open-input.js';
import type { ResolvedMapping } from '../input/mapping.js';
import { PartWriter } from './part-writer.js';
import { RejectsWriter } from './rejects-writer.js';
import { BackfillError } from '../errors.js';
import { processRow, type RowOptions } from '../events/row.js';
import { LEANPLUM_BATCH } from '../events/cost.js';
import { formatShard } from '../events/shard.js';
import { clampTargetOf, cutoffOf, futureLimitOf, staleAfterOf } from '../time/clamp.js';
import { formatDuration } from '../time/duration.js';
import { Tally } from './tally.js';
import { TransformOutput, type OutputResult, type PartWriterFactory } from './transform-output.js';
import { TransformInput, type PreDecision } from './transform-input.js';
import type { ProjectionNotes } from '../presets/projection.js';
import { TOOL } from '../version.js';
import type { InputFacts, TransformSummary } from '../model/summary.js';
import type { RowObserver } from './row-observer.js';
import { isoSeconds as iso } from '../time/iso.js';
import type { UserFold } from './user-fold.js';
import { TotalsFold } from './totals-fold.js';
import { UsersFold } from './users-fold.js';
import { makeUsersStep, type UserDecision } from './users-step.js';
import type { ProjectedUsers } from '../model/user-record.js';
import type { RowResult } from '../events/row.js';

export type { RowObserver } from './row-observer.js';
export type { InputFacts, TransformSummary } from '../model/summary.js';

export interface Progress {
  /** read: the input is read; write: (with --order user) the sorted rows are merged and written */
  phase: 'read' | 'write';
  bytesRead: number;
  bytesTotal: number | undefined;
  rowsRead: number;
  /** write phase: rows written so far, of rowsToWrite */
  rowsWritten: number;
  rowsToWrite: number;
}

export interface TransformIO {
  /** standard input, for an input "-" */
  source?: InputSource;
  /** the GCS client for gs:// inputs, made on demand (the client is heavy to load) */
  storage?: () => Promise<Storage>;
  observer?: RowObserver;
  /**
   * The reader's fast path (issue 11): quote-free lines split on the delimiter byte. On unless
   * false; the CLI turns it off with LP_BACKFILL_EXACT=1. Outputs are byte-identical either way.
   */
  fastPath?: boolean;
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

/**
 * Two inputs with the same bytes (the same export under two names, or copied into two folders)
 * would import every event twice. Found once both were read; nothing is committed then.
 */
function refuseRepeatedContent(facts: readonly InputFacts[]): void {
  const byHash = new Map<string, string>();
  for (const f of facts) {
    if (f.bytes === 0) continue;
    const other = byHash.get(f.sha256);
    if (other !== undefined)
      throw new BackfillError(
        'INPUT_MALFORMED',
        `inputs "${other}" and "${f.name}" have the same content (sha256 ${f.sha256.slice(0, 12)}…): read both, every event would be imported twice`,
        'Give each export once. Nothing was written.',
      );
    byHash.set(f.sha256, f.name);
  }
}

/**
 * The per-user fold of the kind (user-fold.ts), or undefined for events. The users kind plugs its
 * fold (and its own row step) in here.
 */
function foldOf(cfg: TransformConfig, csv: boolean): UserFold | undefined {
  if (cfg.kind === 'totals') return new TotalsFold();
  // a CSV's cells are text: the users fold types a column by how its cells read (users-fold.ts)
  if (cfg.kind === 'users') return new UsersFold(cfg.users?.clearEmpty ?? false, csv);
  return undefined;
}

/**
 * --kind totals: an event name with a dot would nest one level deeper in its columns
 * (events.<a>.<b>.count): such rows are rejected, named, rather than renamed silently.
 */
const dottedEventName = (event: string): RowResult => ({
  kind: 'rejected',
  reason: 'dot_in_event_name',
  message: `event name ${JSON.stringify(event)} has a ".": in --kind totals its columns events.${event}.count… would nest at the dot (Leanplum's CSV reads a dot as a level); rename the event in the export (e.g. ${JSON.stringify(event.replaceAll('.', '_'))}), or import it with --kind events`,
});

export interface TransformResult {
  summary: TransformSummary;
  tally: Tally;
  mapping: ResolvedMapping;
}

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
      clock: r.clock === undefined ? null : iso(r.clock),
      futureAfter: iso(futureLimitOf(r)),
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
      encoding: cfg.encoding,
      kind: cfg.kind,
    },
    columns: out.columns,
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
      // one row per user: no input order of those rows was ever counted (the sort made them)
      billableLookupsInInputOrder: cfg.kind === 'users' || cfg.kind === 'totals' ? null : out.billableLookupsInInputOrder,
      apiBillableLookups: out.apiBillableLookups,
      inputOrderCountedBeforeDedupe: cfg.order === 'user' && cfg.dedupe,
      distinctUsers: out.distinctUsers,
      ...(cfg.kind === 'users' ? {} : { byKind: byKind(cfg, out) }),
    },
    canary: out.canary,
    sort: out.sort === null ? null : { memoryBytes: cfg.sortMemory, ...out.sort },
  };
}

/** An event export's lookups as events and as totals, side by side (summary.json cost.byKind). */
function byKind(cfg: TransformConfig, out: OutputResult): { events: number | null; totals: number | null } {
  if (cfg.kind === 'totals') return { events: out.eventsLookupsByUser, totals: out.billableLookups };
  // one row per user: every batch of 50 rows holds 50 users, whatever the parts
  return { events: out.billableLookups, totals: out.distinctUsers };
}

/** Where zip and Parquet inputs that are not plain local files are copied, inside the output (staging) directory; removed at the end. */
export const SPOOL_DIR = '.spool';

/** How JSON records became rows, for summary.json: the preset, the read-ahead, and what could not be carried. */
function jsonNotes(cfg: TransformConfig, n: ProjectionNotes): NonNullable<TransformSummary['json']> {
  return {
    preset: cfg.preset ?? null,
    scannedRecords: n.scannedRecords,
    anonymous: cfg.anonymous ?? null,
    anonymousUserRows: n.anonymousUserRows,
    paramsOverLimit: { rows: n.paramsOverLimitRows, values: n.paramsOverLimitValues },
    paramsDuplicateValues: n.paramsDuplicateValues,
    paramsLeftOut: n.paramsLeftOut,
    paramsLeftOutOtherNames: n.paramsLeftOutOtherNames,
  };
}

/**
 * Streams the inputs once, one after the other: every record goes through the pure row step,
 * kept rows to the clean CSV, rejected ones to rejects.csv, and everything is counted. Outputs
 * are created only once the header has been accepted, so a configuration problem leaves nothing.
 * Memory stays bounded: the reader caps a record at --max-record-bytes, and the row step waits
 * for a writer whenever one says its buffer is full, also in the middle of an expanded row.
 */
export async function runTransform(cfg: TransformConfig, io: TransformIO = {}): Promise<TransformResult> {
  // the input side: units (files, stdin, gs:// objects, zip entries) read by their format into batches
  const input = new TransformInput(
    {
      inputs: cfg.inputs,
      format: cfg.format,
      mapping: cfg.mapping,
      preset: cfg.preset,
      paramsFrom: cfg.paramsFrom,
      anonymous: cfg.anonymous,
      scanRecords: cfg.scanRecords,
      encoding: cfg.encoding,
      maxRejectRate: cfg.maxRejectRate,
      delimiter: cfg.delimiter,
      maxRecordBytes: cfg.maxRecordBytes,
      sample: cfg.sample,
      spoolDir: join(cfg.outDir, SPOOL_DIR),
      fastPath: io.fastPath !== false,
      users: cfg.users,
    },
    { source: io.source, storage: io.storage },
  );
  await makeDirs(cfg.outDir);
  await input.open();
  const names = input.names;
  const tally = new Tally();
  const opts: RowOptions = {
    rule: cfg.rule,
    timeFormat: cfg.timeFormat,
    zone: cfg.zone,
    maxCount: cfg.maxCount,
    valueIsTotal: cfg.valueIsTotal,
    epochZone: cfg.sourceTz,
  };
  const observer = io.observer;
  const passRecord = io.testSeams?.passRecord;
  const newPartWriter =
    io.testSeams?.partWriter ?? ((dir: string, header: string, maxBytes: number, options) => new PartWriter(dir, header, maxBytes, options));
  const mapping: ResolvedMapping = input.mapping;
  const header = input.header;
  observer?.start?.(header, mapping, names);
  const fold = foldOf(cfg, input.kind === 'csv');
  const output = new TransformOutput(cfg, mapping, tally, observer, names, newPartWriter, fold);
  const rejects = new RejectsWriter(join(cfg.outDir, 'rejects.csv'), header, input.several);
  const layout = mapping.layout;

  /**
   * The row step for one record: decides, counts, and writes; a promise when a writer must drain
   * first. `shown` is what rejects.csv and the report show: the fields, or a JSON record's text.
   */
  const usersStep = fold instanceof UsersFold ? makeUsersStep(cfg, input, output, fold, tally) : undefined;
  const step = (
    fields: string[],
    shown: string[],
    pre: PreDecision | undefined,
    unit: number,
    line: number,
    user: ProjectedUsers | undefined,
  ): Promise<void> | undefined => {
    const file = names[unit]!;
    // --kind users: its own row step (users-step.ts); its decisions are counted below like a row's
    let r: RowResult | UserDecision = pre ?? (usersStep !== undefined ? usersStep(fields, user, unit, line) : processRow(fields, layout, opts));
    if (r.kind === 'sorted') return r.wait;
    if (r.kind === 'kept' && cfg.kind === 'totals' && r.event.includes('.')) r = dottedEventName(r.event);
    // shard, dedupe, counting and writing (or sorting) of kept rows: transform-output.ts
    if (r.kind === 'kept') return output.kept(r, shown, unit, line);
    if (r.kind === 'rejected') {
      tally.onRejected(r.reason);
      observer?.rejected?.(shown, line, r.reason, r.message, file);
      return rejects.add(file, line, r.reason, r.message, shown) ? rejects.flush() : undefined;
    }
    tally.onDropped(r.reason);
    observer?.dropped?.(shown, line, r.reason, file);
    return undefined;
  };

  let lastProgress = 0;
  const progress = () =>
    io.onProgress?.({ phase: 'read', bytesRead: input.bytesRead, bytesTotal: input.bytesTotal, rowsRead: input.read, rowsWritten: 0, rowsToWrite: 0 });
  for await (const b of input.batches()) {
    const { fields, lines, shown, pre, users } = b;
    for (let i = 0; i < b.count; i++) {
      const f = fields[i]!;
      const line = lines[i]!;
      if (passRecord !== undefined && !passRecord(f, line)) continue;
      const wait = step(f, shown === undefined ? f : shown[i]!, pre?.[i], b.unit, line, users?.[i]);
      if (wait !== undefined) await wait;
    }
    if (io.onProgress !== undefined && Date.now() - lastProgress > 200) {
      lastProgress = Date.now();
      progress();
    }
  }
  const facts = input.facts();
  const notes = input.notes();
  progress();
  let lastWrite = 0;
  const out = await output.finish((written) => {
    if (io.onProgress === undefined || Date.now() - lastWrite < 200) return;
    lastWrite = Date.now();
    io.onProgress({
      phase: 'write',
      bytesRead: input.bytesRead,
      bytesTotal: input.bytesTotal,
      rowsRead: input.read,
      rowsWritten: written,
      rowsToWrite: tally.occurrences,
    });
  });
  await rejects.end();
  refuseRepeatedContent(facts);
  // each side of the conservation laws from the place that did the work
  tally.read = input.read;
  tally.written = out.written;
  tally.lineIndexEntries = out.lineIndexEntries;
  if (out.folded !== null && fold !== undefined) {
    tally.perUser = { users: out.distinctUsers ?? 0, folded: out.folded };
    tally.quoting.quoted += fold.quoted ?? 0;
  }

  const summary = buildSummary(cfg, tally, mapping, facts, out);
  if (fold instanceof TotalsFold) summary.totals = fold.stats;
  if (fold instanceof UsersFold) {
    summary.users = fold.stats;
    summary.config.clearEmpty = cfg.users?.clearEmpty ?? false;
  }
  if (notes !== undefined) summary.json = jsonNotes(cfg, notes);
  await writeJsonAtomic(join(cfg.outDir, 'summary.json'), summary);
  if (!summary.conservation.ok) {
    throw new BackfillError(
      'CONSERVATION',
      `row conservation failed: ${summary.conservation.rows}; ${summary.conservation.occurrences}`,
      'This is a bug in lp-backfill; please report it with summary.json.',
    );
  }
  return { summary, tally, mapping };
}
