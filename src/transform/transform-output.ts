import { mkdir, rm } from 'node:fs/promises';
import { BackfillError } from '../errors.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import type { ResolvedMapping } from '../input/mapping.js';
import { ExternalSorter, payloadText } from './external-sort.js';
import { LineIndexWriter } from './line-index.js';
import { PartWriter, type PartInfo, type PartWriterOptions } from './part-writer.js';
import type { RowObserver } from './row-observer.js';
import { csvLine, csvTail } from './csv-line.js';
import { LookupsInOrder } from '../events/cost.js';
import { dedupeKey, type KeptRow, type Occurrence } from '../events/row.js';
import { ShardFilter } from '../events/shard.js';
import type { Tally } from './tally.js';
import type { TransformConfig } from './transform-config.js';
import { isoSeconds as iso } from '../time/iso.js';
import { EXAMPLE_FIELD_CHARS, EXAMPLE_FIELDS } from '../model/report.js';
import { CANARY_DEFAULT_USERS, CANARY_HASH, CANARY_MIN_USERS, CanaryPicker, chooseCanary } from '../events/canary.js';
import type { CanarySummary } from '../model/summary.js';
import type { ColumnSpec } from '../model/kinds.js';
import type { UserFold } from './user-fold.js';

export type PartWriterFactory = (dir: string, header: string, maxBytes: number, options: PartWriterOptions) => PartWriter;

/** Where the external sort spills its runs: inside the output (staging) directory, removed before the commit. */
export const SORT_DIR = '.sort';

export interface OutputResult {
  parts: PartInfo[];
  /** rows the clean CSV writer handed to its streams */
  written: number;
  /** entries the line index writer handed to clean.lines */
  lineIndexEntries: number;
  billableLookups: number;
  billableLookupsInInputOrder: number;
  /** the API sink's (JSON multi calls packed from the file as written) */
  apiBillableLookups: number;
  /** users written, exact with --order user (null in input order) */
  distinctUsers: number | null;
  usersSplitAcrossParts: PartWriter['splitGroups'];
  rowsMovedToKeepUsersTogether: number;
  sort: { runs: number; bytesSpilled: number; extraMergePasses: number } | null;
  /** the canary (issue 20): its part, users and rows, or why there is none */
  canary: CanarySummary;
  /** kinds users and totals: the clean CSV's columns with their types; null for events */
  columns: ColumnSpec[] | null;
  /** kinds users and totals: records the fold put into the rows it wrote (its own count); null for events */
  folded: number | null;
  /**
   * An events-based fold (totals): the billable lookups the same occurrences would cost as the
   * events kind, sorted by user (counted at the merge, split into parts by size as the events
   * file would be, without moving users between parts or a canary); null otherwise
   */
  eventsLookupsByUser: number | null;
}

/**
 * A row waiting in the dedupe sort keeps only what the report can show of it if it turns out a
 * duplicate: its first EXAMPLE_FIELDS fields, one character longer than EXAMPLE_FIELD_CHARS so the
 * report still sees that a field was cut.
 */
const KEPT_FIELD_CHARS = EXAMPLE_FIELD_CHARS + 1;

/** What is left to write of an expanded row, without its occurrence objects. */
interface CompactOccurrences {
  times: Float64Array;
  /** the original time of a clamped occurrence, NaN for the others; only with --original-time-param */
  originals: Float64Array | undefined;
}

/**
 * A row with a large count is written across many waits for the writers. Its occurrence objects
 * (tens of thousands) would stay reachable from the suspended writer all that time and be
 * promoted to the old heap, which then grows by megabytes per row; typed arrays off the heap
 * let them die young.
 */
function compact(occ: KeptRow['occurrences'], from: number, withOriginals: boolean): CompactOccurrences {
  const n = occ.length - from;
  const times = new Float64Array(n);
  const originals = withOriginals ? new Float64Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const o = occ[from + i]!;
    times[i] = o.time;
    if (originals !== undefined) originals[i] = o.change === 'clamped' ? o.original : NaN;
  }
  return { times, originals };
}

/** Occurrences as runs of equal ones, [time, original, change, count], for a row that waits in the dedupe sort. */
function packOccurrences(occ: readonly Occurrence[]): PackedOccurrences {
  const out: PackedOccurrences = [];
  for (const o of occ) {
    const last = out.at(-1);
    if (last !== undefined && last[0] === o.time && last[1] === o.original && last[2] === o.change) last[3]++;
    else out.push([o.time, o.original, o.change, 1]);
  }
  return out;
}

type PackedOccurrences = [number, number, Occurrence['change'], number][];
type PackedRow = Omit<KeptRow, 'occurrences'> & { occurrences: PackedOccurrences };

/** A row's quoted text around its time: `tail` for occurrences before `lastFrom`, `lastTail` from there on. */
interface Tails {
  head: string;
  tail: string;
  lastTail: string;
  lastFrom: number;
}
const tailAt = (t: Tails, i: number): string => (i >= t.lastFrom ? t.lastTail : t.tail);

/**
 * The clean CSV line of a row's occurrence `i`: its quoted fields around the time and, with
 * --original-time-param (`original` not undefined), the original time of a clamped occurrence
 * (NaN for one that was not clamped: an empty column).
 */
function formatOccurrence(q: Tails, i: number, time: number, original: number | undefined): string {
  return q.head + time + tailAt(q, i) + (original === undefined ? '' : ',' + (Number.isNaN(original) ? '' : iso(original))) + '\n';
}

/** An occurrence's `original` for formatOccurrence: undefined without --original-time-param. */
const originalOf = (o: Occurrence, origParam: boolean): number | undefined => (origParam ? (o.change === 'clamped' ? o.original : NaN) : undefined);

/**
 * The sort payload of an events-based fold's occurrence: the event line's byte length (for the
 * events figure counted at the merge), a tab, then the fold's own payload.
 */
const foldPayload = (fold: UserFold, row: KeptRow, i: number, eventBytes: number): string => `${eventBytes}\t${fold.occurrencePayload!(row, i)}`;

function unpackOccurrences(packed: PackedOccurrences): Occurrence[] {
  const out: Occurrence[] = [];
  for (const [time, original, change, n] of packed) {
    const o: Occurrence = { time, original, change };
    for (let i = 0; i < n; i++) out.push(o);
  }
  return out;
}

/** The canary's users and writers during the merge. */
interface Canary {
  users: Set<string>;
  /** part 1: the canary users' rows, nothing else */
  writer: PartWriter;
  /** the other users' clean.lines entries, appended to clean.lines after the canary's */
  restLines: LineIndexWriter;
  restPath: string;
}

/**
 * The output side of a transform: from the rows the row step kept to the clean CSV parts and
 * clean.lines. Here rows of other shards are dropped, duplicates found, and — with --order user —
 * occurrences go through the external sort by (userId, time, source position) before the writers.
 * Counting stays where the work is done: the row step's decisions in the tally (kept rows, and the
 * drops made here), written rows in the part writer, entries in the line index writer.
 */
export class TransformOutput {
  /** the clean CSV writer (with a canary: the other users', from part 2 on); --order user makes it in finish() */
  private clean: PartWriter | undefined;
  /** clean.lines (with a canary, the canary's entries first; the others' are appended from `restLines`) */
  private readonly lines: LineIndexWriter;
  /** --order user: the users with the smallest hashes, for the canary */
  private readonly picker: CanaryPicker | undefined;
  /** the clean CSV's header; a per-user fold's is known only after the read (its columns) */
  private header: string;
  private readonly origParam: boolean;
  private readonly shard: ShardFilter | undefined;
  /** --order input --dedupe: keys seen so far (memory grows with distinct rows) */
  private readonly seen: Set<string> | undefined;
  /** --order user: every occurrence, by (userId, time, position) */
  private readonly byUser: ExternalSorter | undefined;
  /** --order user --dedupe: every kept row, by (dedupe key, position); the first of equal keys stays */
  private readonly byKey: ExternalSorter | undefined;
  /** --order user: lookups of the same rows in input order, for comparison */
  private readonly inputOrder: LookupsInOrder | undefined;
  private readonly scratchQuoting = { quoted: 0 };
  private distinctUsers = 0;
  /** kept rows seen, in input order: the source position the sorts fall back on */
  private position = 0;
  /** an events-based fold (totals): the events file's lookups in user order, fed at the merge */
  private readonly eventsByUser: LookupsInOrder | undefined;
  private columns: ColumnSpec[] | null = null;

  constructor(
    private readonly cfg: TransformConfig,
    private readonly mapping: ResolvedMapping,
    private readonly tally: Tally,
    private readonly observer: RowObserver | undefined,
    private readonly names: readonly string[],
    private readonly newPartWriter: PartWriterFactory = (d, h, m, o) => new PartWriter(d, h, m, o),
    /** kinds users and totals (model/kinds.ts): one row per user, folded from the sorted stream (needs --order user) */
    private readonly fold?: UserFold,
  ) {
    const header = csvLine(mapping.outputHeader);
    this.header = header;
    const sorted = cfg.order === 'user';
    if (fold !== undefined && !sorted) throw new Error('a per-user fold needs --order user (transform-config refuses --order input for it)');
    if (fold?.occurrencePayload !== undefined) this.eventsByUser = new LookupsInOrder(Buffer.byteLength(header), cfg.maxPartBytes);
    if (!sorted) this.clean = newPartWriter(cfg.outDir, header, cfg.maxPartBytes, { groups: false });
    // enough users kept to know whether there are more than CANARY_MIN_USERS
    if (sorted && cfg.canary !== 0) this.picker = new CanaryPicker(Math.max(cfg.canary ?? CANARY_DEFAULT_USERS, CANARY_MIN_USERS + 1));
    this.lines = new LineIndexWriter(join(cfg.outDir, 'clean.lines'));
    this.origParam = cfg.mapping.originalTimeParam !== undefined;
    this.shard = cfg.shard === undefined ? undefined : new ShardFilter(cfg.shard);
    if (sorted) {
      const memory = cfg.dedupe ? Math.floor(cfg.sortMemory / 2) : cfg.sortMemory;
      this.byUser = new ExternalSorter(join(cfg.outDir, SORT_DIR, 'rows'), memory);
      if (cfg.dedupe) this.byKey = new ExternalSorter(join(cfg.outDir, SORT_DIR, 'dedupe'), memory);
      this.inputOrder = new LookupsInOrder(Buffer.byteLength(header), cfg.maxPartBytes);
    } else if (cfg.dedupe) {
      this.seen = new Set();
    }
  }

  /** A row the row step kept: to the shard filter, dedupe, the tally and the writers (or the sort). */
  kept(row: KeptRow, fields: readonly string[], fileIndex: number, line: number): Promise<void> | undefined {
    const file = this.names[fileIndex]!;
    if (this.shard !== undefined && !this.shard.keeps(row.userId)) {
      this.tally.onDropped('other_shard');
      this.observer?.dropped?.(fields, line, 'other_shard', file);
      return undefined;
    }
    this.fold?.seeRow?.(row);
    const position = this.position++;
    if (this.byKey !== undefined) {
      // decided in the merge of the dedupe sort; until then the row is neither kept nor dropped
      this.countInputOrder(row);
      const f = this.observer?.dropped === undefined ? undefined : fields.slice(0, EXAMPLE_FIELDS).map((x) => x.slice(0, KEPT_FIELD_CHARS));
      const payload = JSON.stringify({ r: { ...row, occurrences: packOccurrences(row.occurrences) }, f });
      return this.byKey.add(dedupeKey(row), 0, position, fileIndex, line, payload) ? this.byKey.spill() : undefined;
    }
    if (this.seen !== undefined) {
      const key = dedupeKey(row);
      if (this.seen.has(key)) {
        this.tally.onDropped('duplicate');
        this.observer?.dropped?.(fields, line, 'duplicate', file);
        return undefined;
      }
      this.seen.add(key);
    }
    this.tally.onKept(row);
    this.observer?.kept?.(row, line, file);
    return this.byUser === undefined ? this.writeKept(row, fileIndex, line) : this.sortKept(row, position, fileIndex, line, true);
  }

  /**
   * The row's fields before and after the time, quoted once for all its occurrences (a total split
   * by --value-is-total: a second tail for the last occurrences, which carry one more unit).
   */
  private quoted(row: KeptRow, quoting: { quoted: number }): Tails {
    const layout = this.mapping.layout;
    const head = csvTail([row.userId, row.event], quoting).slice(1) + ',';
    const tailWith = (value: string) => {
      const rest = [];
      if (layout.value >= 0) rest.push(value);
      if (layout.currencyCode >= 0) rest.push(row.currencyCode);
      return csvTail(rest.length === 0 ? row.params : rest.concat(row.params), quoting);
    };
    const tail = tailWith(row.value);
    const last = row.valueLast;
    return last === undefined || layout.value < 0
      ? { head, tail, lastTail: tail, lastFrom: Infinity }
      : { head, tail, lastTail: tailWith(last.value), lastFrom: last.from };
  }

  private flushRows = async (): Promise<void> => {
    await this.clean!.flush();
    await this.lines.flush();
  };

  // Occurrences of one row differ only in time: quote the rest once and reuse it. The common row
  // needs no waiting and stays synchronous; only when a writer is full does the rest of the row
  // (possibly thousands of occurrences of a large count) continue asynchronously.
  private writeKept(row: KeptRow, fileIndex: number, line: number): Promise<void> | undefined {
    const q = this.quoted(row, this.tally.quoting);
    const occ = row.occurrences;
    const origParam = this.origParam;
    for (let i = 0; i < occ.length; i++) {
      const o = occ[i]!;
      const cleanFull = this.clean!.add(formatOccurrence(q, i, o.time, originalOf(o, origParam)), row.userId);
      if (this.lines.add(fileIndex, line) || cleanFull)
        return i + 1 === occ.length ? this.flushRows() : this.writeRest(compact(occ, i + 1, origParam), row.userId, q, i + 1, fileIndex, line);
    }
    return undefined;
  }

  private async writeRest(rest: CompactOccurrences, user: string, q: Tails, offset: number, fileIndex: number, line: number): Promise<void> {
    await this.flushRows();
    const { times, originals } = rest;
    for (let i = 0; i < times.length; i++) {
      const cleanFull = this.clean!.add(formatOccurrence(q, offset + i, times[i]!, originals?.[i]), user);
      if (this.lines.add(fileIndex, line) || cleanFull) await this.flushRows();
    }
  }

  /**
   * --order user: each occurrence into the sort by (userId, time, source position); the
   * occurrences of one row share the position and keep their own order (the sort is stable).
   */
  private sortKept(row: KeptRow, position: number, fileIndex: number, line: number, inputOrder: boolean): Promise<void> | undefined {
    const sorter = this.byUser!;
    // a per-user fold writes no event lines: their quoting is not counted (the fold counts its own)
    const q = this.quoted(row, this.fold === undefined ? this.tally.quoting : this.scratchQuoting);
    const occ = row.occurrences;
    const origParam = this.origParam;
    const fold = this.fold;
    for (let i = 0; i < occ.length; i++) {
      const o = occ[i]!;
      const text = formatOccurrence(q, i, o.time, originalOf(o, origParam));
      const bytes = Buffer.byteLength(text);
      if (inputOrder) this.inputOrder!.row(row.userId, bytes);
      this.picker?.row(row.userId, bytes);
      // an events-based fold sorts its own payload, with the event line's size for the events figure
      const added =
        fold === undefined
          ? sorter.add(row.userId, o.time, position, fileIndex, line, text, bytes)
          : sorter.add(row.userId, o.time, position, fileIndex, line, foldPayload(fold, row, i, bytes));
      if (added) {
        return i + 1 === occ.length
          ? sorter.spill()
          : this.sortRest(compact(occ, i + 1, origParam), row.userId, position, q, i + 1, fileIndex, line, inputOrder, fold === undefined ? undefined : row);
      }
    }
    return undefined;
  }

  private async sortRest(
    rest: CompactOccurrences,
    user: string,
    position: number,
    q: Tails,
    offset: number,
    fileIndex: number,
    line: number,
    inputOrder: boolean,
    /** an events-based fold reads the row's occurrences (its payload); events need only the compact times */
    row?: KeptRow,
  ): Promise<void> {
    const sorter = this.byUser!;
    await sorter.spill();
    const { times, originals } = rest;
    const fold = this.fold;
    for (let i = 0; i < times.length; i++) {
      const text = formatOccurrence(q, offset + i, times[i]!, originals?.[i]);
      const bytes = Buffer.byteLength(text);
      if (inputOrder) this.inputOrder!.row(user, bytes);
      this.picker?.row(user, bytes);
      const added =
        fold === undefined || row === undefined
          ? sorter.add(user, times[i]!, position, fileIndex, line, text, bytes)
          : sorter.add(user, times[i]!, position, fileIndex, line, foldPayload(fold, row, offset + i, bytes));
      if (added) await sorter.spill();
    }
  }

  /**
   * A kind with its own row step (users): one record of `userId` it kept (and counted in the
   * tally), into the sort by (userId, time, position); the fold reads `payload` at the merge.
   * A promise: await it before the next record (the sort's memory is full).
   */
  addRecord(userId: string, time: number, payload: string, fileIndex: number, line: number): Promise<void> | undefined {
    if (this.fold === undefined || this.byUser === undefined) throw new Error('addRecord is for the kinds folded per user');
    const position = this.position++;
    const text = this.fold.occurrencePayload === undefined ? payload : `0\t${payload}`;
    const bytes = Buffer.byteLength(text);
    this.picker?.row(userId, bytes);
    return this.byUser.add(userId, time, position, fileIndex, line, text, bytes) ? this.byUser.spill() : undefined;
  }

  /** With the dedupe sort, the input-order comparison counts the rows as they come, before dedupe. */
  private countInputOrder(row: KeptRow): void {
    const q = this.quoted(row, this.scratchQuoting);
    for (const [i, o] of row.occurrences.entries())
      this.inputOrder!.row(row.userId, Buffer.byteLength(formatOccurrence(q, i, o.time, originalOf(o, this.origParam))));
  }

  /** Sorts (when it must), writes, closes the writers and removes the sort's files. */
  async finish(onWritten?: (rows: number) => void): Promise<OutputResult> {
    try {
      let runs = 0;
      let bytesSpilled = 0;
      let extraMergePasses = 0;
      const account = (s: ExternalSorter) => {
        runs += s.spills;
        bytesSpilled += s.bytesSpilled;
        extraMergePasses += s.extraPasses;
      };
      if (this.byKey !== undefined) {
        let previous: string | undefined;
        let pending: Promise<void> | undefined;
        await this.byKey.drain(
          (r) => {
            const { key, seq: position, a: fileIndex, b: line } = r;
            const p = JSON.parse(payloadText(r)) as { r: PackedRow; f?: string[] };
            const file = this.names[fileIndex]!;
            if (key === previous) {
              this.tally.onDropped('duplicate');
              this.observer?.dropped?.(p.f ?? [], line, 'duplicate', file);
              return false;
            }
            previous = key;
            const row: KeptRow = { ...p.r, occurrences: unpackOccurrences(p.r.occurrences) };
            this.tally.onKept(row);
            this.observer?.kept?.(row, line, file);
            pending = this.sortKept(row, position, fileIndex, line, false);
            return pending !== undefined;
          },
          () => pending ?? Promise.resolve(),
        );
        account(this.byKey);
      }
      let canary: Canary | undefined;
      let canarySummary: CanarySummary;
      if (this.byUser !== undefined) {
        // before anything is written: a per-user fold may refuse what was read (exit 2)
        this.fold?.endOfRead?.();
        if (this.fold !== undefined) {
          this.columns = this.fold.columns();
          this.header = csvLine(this.columns.map((c) => c.name));
        }
        const c = await this.chooseCanary();
        canary = c.canary;
        canarySummary = c.summary;
        const clean = (this.clean = this.newPartWriter(this.cfg.outDir, this.header, this.cfg.maxPartBytes, {
          groups: true,
          ...(canary !== undefined ? { firstPart: 2 } : {}),
        }));
        const lines = this.lines;
        const other = canary?.restLines ?? lines;
        const users = canary?.users;
        const flush = canary === undefined ? this.flushRows : () => this.flushAll(canary!);
        /** one clean row of `user`, from source (a, b): to part 1 for a canary user, else part 2 on — never both */
        const emit = (text: string, user: string, inCanary: boolean, a: number, b: number): boolean => {
          if (inCanary) {
            const full = canary!.writer.add(text, user);
            return lines.add(a, b) || full;
          }
          const cleanFull = clean.add(text, user);
          return other.add(a, b) || cleanFull;
        };
        if (this.fold !== undefined) await this.foldUsers(this.fold, emit, users, flush, onWritten);
        else {
          let previous: string | undefined;
          let inCanary = false;
          let merged = 0;
          await this.byUser.drain((r) => {
            const user = r.key;
            if (user !== previous) {
              this.distinctUsers++;
              previous = user;
              inCanary = users?.has(user) === true;
            }
            if (onWritten !== undefined && (++merged & 0x3fff) === 0) onWritten(merged);
            return emit(payloadText(r), user, inCanary, r.a, r.b);
          }, flush);
        }
        account(this.byUser);
      } else {
        canarySummary = {
          part: null,
          users: 0,
          rows: 0,
          requested: null,
          hash: CANARY_HASH,
          note: '--order input: no canary (a canary needs the rows grouped by user, --order user)',
        };
      }
      const clean = this.clean!;
      await clean.end();
      await this.lines.end();
      const writers = canary === undefined ? [clean] : [canary.writer, clean];
      if (canary !== undefined) {
        await canary.writer.end();
        await canary.restLines.end();
        // clean.lines follows the parts: the canary's entries, then the others'
        await pipeline(createReadStream(canary.restPath), createWriteStream(join(this.cfg.outDir, 'clean.lines'), { flags: 'a' }));
        for (const p of canary.writer.parts) p.canary = true;
      }
      const sum = (f: (w: PartWriter) => number) => writers.reduce((s, w) => s + f(w), 0);
      const asWritten = sum((w) => w.lookups.total);
      return {
        parts: writers.flatMap((w) => w.parts),
        written: sum((w) => w.rowsWritten),
        lineIndexEntries: this.lines.entriesWritten + (canary?.restLines.entriesWritten ?? 0),
        billableLookups: asWritten,
        billableLookupsInInputOrder: this.inputOrder === undefined ? asWritten : this.inputOrder.end().total,
        // the canary's calls are packed apart: no call mixes canary users and others
        apiBillableLookups: sum((w) => w.apiBatches.billable),
        distinctUsers: this.byUser === undefined ? null : this.distinctUsers,
        usersSplitAcrossParts: {
          count: sum((w) => w.splitGroups.count),
          sample: writers.flatMap((w) => w.splitGroups.sample),
        },
        rowsMovedToKeepUsersTogether: sum((w) => w.rowsMoved),
        sort: this.byUser === undefined ? null : { runs, bytesSpilled, extraMergePasses },
        canary: canarySummary,
        columns: this.columns,
        folded: this.fold === undefined ? null : this.fold.folded,
        eventsLookupsByUser: this.eventsByUser === undefined ? null : this.eventsByUser.end().total,
      };
    } finally {
      await this.dispose();
    }
  }

  /**
   * The canary, decided once the rows are read (before the merge writes anything): its users,
   * their writer (part 1) and where the other users' clean.lines entries wait until the end.
   */
  private async chooseCanary(): Promise<{ canary: Canary | undefined; summary: CanarySummary }> {
    const cfg = this.cfg;
    const picker = this.picker;
    const picked = picker?.smallest() ?? [];
    const room = cfg.maxPartBytes - Buffer.byteLength(this.header);
    const choice = chooseCanary(picked, picker?.size ?? 0, cfg.canary, room);
    // a per-user fold writes one row per user (the picker counted the user's records)
    const rows = this.fold === undefined ? choice.users.reduce((s, u) => s + u.rows, 0) : choice.users.length;
    const on = choice.users.length > 0;
    const summary: CanarySummary = {
      part: on ? 'clean-part-001.csv' : null,
      users: choice.users.length,
      rows,
      requested: choice.requested,
      hash: CANARY_HASH,
      note: choice.note ?? null,
    };
    if (!on) return { canary: undefined, summary };
    await mkdir(join(cfg.outDir, SORT_DIR), { recursive: true });
    const restPath = join(cfg.outDir, SORT_DIR, 'rest.lines');
    return {
      canary: {
        users: new Set(choice.users.map((u) => u.user)),
        writer: this.newPartWriter(cfg.outDir, this.header, cfg.maxPartBytes, {
          groups: true,
          firstPart: 1,
          // the rest is numbered from part 2: a second canary part would share its names (and the
          // gate follows part 1 alone). Only a per-user fold can get here: its rows are measured
          // after the canary is chosen (the choice counts the records' bytes, not the folded row's)
          onePart: (fitted) => canaryOverflow(choice.users.length, fitted, cfg.maxPartBytes, this.fold !== undefined),
        }),
        restPath,
        restLines: new LineIndexWriter(restPath),
      },
      summary,
    };
  }

  /**
   * Kinds users and totals: the sorted records go to the fold one user at a time; each user ends
   * in ONE row, whose clean.lines entry is the user's first record.
   */
  private async foldUsers(
    fold: UserFold,
    emit: (text: string, user: string, inCanary: boolean, a: number, b: number) => boolean,
    canaryUsers: ReadonlySet<string> | undefined,
    flush: () => Promise<void>,
    onWritten: ((rows: number) => void) | undefined,
  ): Promise<void> {
    const eventsByUser = this.eventsByUser;
    let user: string | undefined;
    let fileIndex = 0;
    let line = 0;
    /** the user ended: its row and its clean.lines entry; true when a writer asks to wait */
    const endUser = (): boolean => {
      if (onWritten !== undefined && (this.distinctUsers & 0x3fff) === 0) onWritten(this.distinctUsers);
      return emit(fold.end(user!), user!, canaryUsers?.has(user!) === true, fileIndex, line);
    };
    await this.byUser!.drain((r) => {
      let wait = false;
      if (r.key !== user) {
        if (user !== undefined) wait = endUser();
        user = r.key;
        fileIndex = r.a;
        line = r.b;
        this.distinctUsers++;
      }
      let text = payloadText(r);
      if (eventsByUser !== undefined) {
        const tab = text.indexOf('\t');
        const bytes = Number(text.slice(0, tab));
        if (bytes > 0) eventsByUser.row(user, bytes);
        text = text.slice(tab + 1);
      }
      fold.add(user, r.num, text);
      return wait;
    }, flush);
    if (user !== undefined && endUser()) await flush();
  }

  private async flushAll(c: Canary): Promise<void> {
    await c.writer.flush();
    await this.clean!.flush();
    await this.lines.flush();
    await c.restLines.flush();
  }

  /** Removes the sort's files (also when the transform fails). */
  async dispose(): Promise<void> {
    await this.byKey?.dispose();
    await this.byUser?.dispose();
    await rm(join(this.cfg.outDir, SORT_DIR), { recursive: true, force: true });
  }
}

/** The canary's rows, as written, outgrow one part (exit 2): how many fitted, and the three ways on. */
export function canaryOverflow(users: number, fitted: number, maxPartBytes: number, folded: boolean): BackfillError {
  return new BackfillError(
    'CONFIG_INVALID',
    `canary: the ${users} canary users' rows${folded ? ' (one row per user, with a cell for every column of the header)' : ''} do not fit in one part of --max-part-bytes ${maxPartBytes} bytes: the ${fitted === 1 ? 'first row' : `first ${fitted} rows`} filled it. The canary is one part, imported alone and first`,
    `Nothing was sent. Give a smaller --canary (at most about ${Math.max(1, Math.floor(fitted * 0.8))}), a larger --max-part-bytes, or --canary 0 (no canary), and run the same command again.`,
  );
}
