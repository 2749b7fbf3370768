import type { Storage } from '@google-cloud/storage';
import type { Encoding } from '../input/encoding.js';
import type { InputSource } from '../input/open-input.js';
import { shown, shownList } from '../input/shown.js';
import { resolveMapping, type MappingOptions, type ResolvedMapping } from '../input/mapping.js';
import { RecordReader } from '../input/csv/record-reader.js';
import { BackfillError } from '../errors.js';
import type { DropReason, RejectReason } from '../events/reasons.js';
import type { FormatChoice } from '../input/format.js';
import { JsonArraySplitter } from '../input/json/json-array-reader.js';
import { isJsonObject, jsonKind, parseJson, stringifyJson, type JsonValue } from '../input/json/json-text.js';
import { NdjsonSplitter } from '../input/json/ndjson-reader.js';
import type { InputFacts } from '../model/summary.js';
import { PRESETS } from '../presets/index.js';
import { JsonProjection, type ProjectionNotes } from '../presets/projection.js';
import { Sources, type Unit } from '../input/sources.js';
import { resolveUsersMapping, type UserMappingOptions, type UsersCsvLayout } from '../input/user-mapping.js';
import { UsersJsonProjection, UsersPathCheck, type UsersProjection } from '../input/json/user-projection.js';
import { UsersPresetProjection } from '../presets/user-projection.js';
import { USER_PRESETS, userPresetMapping } from '../presets/users/index.js';
import type { ProjectedUsers } from '../model/user-record.js';

/** Input bytes handed to a reader at a time: a batch's records then die young (see transform.ts). */
const SLICE = 1 << 16;
/** The read-ahead that fixes a JSON run's header stops at this many bytes of records, whatever --scan-records says. */
const SCAN_BYTES = 16 << 20;
/** JSON bytes per batch: smaller than for CSV, a parsed record being many objects that must die young. */
const JSON_SLICE = 1 << 14;
/** Parquet rows handed over per batch. */
const PARQUET_BATCH = 512;

/** A decision about a record made before the row step: it is not a row the rules can read. */
export type PreDecision = { kind: 'rejected'; reason: RejectReason; message: string } | { kind: 'dropped'; reason: DropReason };

/**
 * Records of one unit, in order. `fields` are what the row step reads (header columns, or a JSON
 * record projected onto the virtual header); `shown` is what rejects.csv and the report show for
 * the record (JSON: its source text; CSV: the fields themselves); `pre` holds the decisions made
 * before the row step (bad JSON, a record too large, not an event).
 */
export interface RecordBatch {
  unit: number;
  count: number;
  fields: string[][];
  lines: number[];
  shown: string[][] | undefined;
  pre: (PreDecision | undefined)[] | undefined;
  /** --kind users, JSON: each record as a raw user record (or a decision), in place of `fields` */
  users?: (ProjectedUsers | undefined)[] | undefined;
}

export interface InputConfig {
  inputs: readonly string[];
  format: FormatChoice;
  mapping: MappingOptions;
  preset: string | undefined;
  paramsFrom: readonly string[];
  anonymous: string | undefined;
  scanRecords: number;
  /** --encoding: text inputs reach the readers as checked UTF-8 (input/encoding.ts) */
  encoding?: Encoding | undefined;
  /** JSON: the read-ahead stops a run whose records mostly lack a user id beyond this rate (see JsonProjection) */
  maxRejectRate?: number | undefined;
  delimiter: string | undefined;
  maxRecordBytes: number;
  sample: number | undefined;
  /** the output (staging) directory: zip/Parquet inputs that need it are spooled under it */
  spoolDir: string;
  /** CSV: split quote-free lines on the delimiter byte (RecordReader's fast path) */
  fastPath?: boolean | undefined;
  /** --kind users: fields and attributes (CSV columns, JSON paths, or a preset's names) */
  users?: UserMappingOptions | undefined;
}

export interface InputIO {
  source?: InputSource | undefined;
  storage?: (() => Promise<Storage>) | undefined;
}

/** One JSON record as read: its text (NDJSON, arrays), its value, or why it has none. */
interface JsonRec {
  line: number;
  text: string | undefined;
  value: JsonValue | undefined;
  error: PreDecision | undefined;
}

/**
 * The input side of a transform: the units in order, each read by its format's reader into
 * batches the row step consumes, and the header and mapping those records follow. CSV units carry
 * their header; JSON units (NDJSON, JSON arrays, Parquet rows) are projected through a preset or
 * dotted paths onto a virtual header, whose parameter columns come from the first records, read
 * ahead. `read` counts the records handed over, apart from the row step's own counts.
 */
export class TransformInput {
  private readonly sources: Sources;
  /** unit names, by batch.unit */
  readonly names: string[] = [];
  header: string[] = [];
  mapping!: ResolvedMapping;
  kind: 'csv' | 'json' = 'csv';
  /** records handed over in batches */
  read = 0;
  bytesRead = 0;
  private units!: AsyncGenerator<Unit>;
  private first: Unit | undefined;
  private projection: JsonProjection | undefined;
  /** JSON: the records read ahead, replayed first */
  private ahead: { unit: number; recs: JsonRec[] }[] = [];
  private jsonIt: AsyncIterator<{ unit: number; recs: JsonRec[] }> | undefined;
  /** CSV: the first unit's reader, started to read its header */
  private csvFirst: CsvUnit | undefined;
  /** CSV: the unit being read */
  private csvUnit: CsvUnit | undefined;
  /** --kind users, CSV: where the user id, time, fields and attributes sit */
  usersLayout: UsersCsvLayout | undefined;
  /** --kind users, JSON: records → raw user records */
  private usersProjection: UsersProjection | undefined;

  constructor(
    private readonly cfg: InputConfig,
    io: InputIO,
  ) {
    this.sources = new Sources({
      inputs: cfg.inputs,
      format: cfg.format,
      spoolDir: cfg.spoolDir,
      stdin: io.source,
      storage: io.storage,
      onBytes: (n) => (this.bytesRead += n),
      encoding: cfg.encoding,
    });
  }

  get bytesTotal(): number | undefined {
    return this.sources.bytesTotal;
  }

  /** More than one unit may deliver records (rejects.csv then names each record's unit). */
  get several(): boolean {
    return this.sources.several || this.first?.fact.format === 'zip';
  }

  facts(): InputFacts[] {
    return this.sources.facts();
  }

  notes(): ProjectionNotes | undefined {
    return this.projection?.finish();
  }

  private get remaining(): number {
    return this.cfg.sample === undefined ? Infinity : this.cfg.sample - this.read;
  }

  private async nextUnit(): Promise<Unit | undefined> {
    const n = await this.units.next();
    if (n.done === true) return undefined;
    const u = n.value;
    if (this.first !== undefined && u.empty !== true && (u.format === 'csv') !== (this.kind === 'csv')) {
      throw new BackfillError(
        'BAD_HEADER',
        `"${u.name}" is ${u.format === 'csv' ? 'CSV' : u.format.toUpperCase()}, but the run started with ${this.kind === 'csv' ? 'CSV' : 'JSON'} ("${this.names[0]}"): one run reads one kind of input`,
        'Transform CSV and JSON/Parquet exports in separate runs.',
      );
    }
    this.names.push(u.name);
    return u;
  }

  /** Opens the inputs up to the header: fixes the mapping, throws (before any output) on a configuration problem. */
  async open(): Promise<void> {
    await this.sources.expand();
    this.units = this.sources.units();
    const first = await this.nextUnit();
    if (first === undefined) throw new BackfillError('INPUT_MALFORMED', 'no input to read', 'Name at least one export file.');
    this.first = first;
    this.kind = first.format === 'csv' ? 'csv' : 'json';
    if (this.kind === 'csv') {
      if (this.cfg.preset !== undefined || this.cfg.paramsFrom.length > 0 || this.cfg.anonymous !== undefined) {
        const given = [
          this.cfg.preset !== undefined ? '--preset' : '',
          this.cfg.paramsFrom.length > 0 ? '--params-from' : '',
          this.cfg.anonymous !== undefined ? '--anonymous' : '',
        ]
          .filter(Boolean)
          .join(', ');
        throw new BackfillError(
          'CONFIG_INVALID',
          `${given}: only for JSON or Parquet inputs, but "${first.name}" is CSV`,
          'Leave them out for CSV (name columns with --map and --param), or use --format ndjson|json if the file is JSON.',
        );
      }
      this.csvFirst = new CsvUnit(first, 0, this.cfg, this.remaining);
      const header = await this.csvFirst.readHeader();
      if (header === undefined)
        throw new BackfillError(
          'INPUT_MALFORMED',
          `the input "${first.name}" is empty: expected a header row with userId, event and time columns`,
          'Check that the export finished writing.',
        );
      this.header = header;
      if (this.cfg.users !== undefined) {
        this.usersLayout = resolveUsersMapping(header, this.cfg.users);
        this.mapping = usersMapping(this.usersLayout.width, this.usersLayout.userId, this.usersLayout.columns, this.usersLayout.leftOut);
        return;
      }
      this.mapping = resolveMapping(header, this.cfg.mapping);
      return;
    }
    if (this.cfg.users !== undefined) {
      const preset = this.cfg.preset === undefined ? undefined : USER_PRESETS[this.cfg.preset];
      if (this.cfg.preset !== undefined && preset === undefined)
        throw new BackfillError(
          'CONFIG_INVALID',
          `--preset ${this.cfg.preset} has no people form for --kind users; these have one: ${Object.keys(USER_PRESETS).join(', ')}`,
          'Leave out --preset and name the fields with --map and the attributes with --attr. Nothing was written.',
        );
      this.usersProjection = preset === undefined ? new UsersJsonProjection(this.cfg.users) : new UsersPresetProjection(preset, this.cfg.users);
      // read ahead: every path named must be in one of the first records (else exit 2, nothing written)
      const check = new UsersPathCheck(this.cfg.users, preset !== undefined);
      const projection = this.usersProjection;
      await this.readAhead(first, (value) => {
        if (!isJsonObject(value)) return;
        check.scan(value);
        if (projection instanceof UsersPresetProjection) projection.scan(value);
      });
      const events = this.usersProjection instanceof UsersPresetProjection ? this.usersProjection.eventExportProblem() : undefined;
      if (events !== undefined)
        throw new BackfillError('CONFIG_INVALID', events, 'The counts are those of the first records read (--scan-records). Nothing was written.');
      check.check();
      const anonymous = this.usersProjection instanceof UsersPresetProjection ? this.usersProjection.anonymousProblem(this.cfg.maxRejectRate ?? 0) : undefined;
      if (anonymous !== undefined)
        throw new BackfillError('MISSING_COLUMN', anonymous, `The counts are those of the first records read (--scan-records). Nothing was written.`);
      // where each part comes from: the preset's rules, then --map and --anonymous (they win)
      const columns: Record<string, string> = preset === undefined ? {} : userPresetMapping(preset);
      for (const [k, v] of Object.entries(this.cfg.users.map)) columns[k] = v!;
      if (this.cfg.users.anonymous !== undefined) columns['anonymous'] = this.cfg.users.anonymous;
      this.mapping = usersMapping(1, 0, columns, []);
      this.header = ['record'];
      return;
    }
    const preset = this.cfg.preset === undefined ? undefined : PRESETS[this.cfg.preset];
    const m = this.cfg.mapping;
    this.projection = new JsonProjection({
      preset,
      map: m.map,
      params: m.params,
      paramsFrom: this.cfg.paramsFrom,
      countColumn: m.countColumn,
      firstColumn: m.firstColumn,
      lastColumn: m.lastColumn,
      originalTimeParam: m.originalTimeParam,
      dedupeKey: m.dedupeKey,
      anonymous: this.cfg.anonymous,
      maxRejectRate: this.cfg.maxRejectRate,
    });
    // read ahead: the first records fix the parameter columns and show whether the paths exist
    const projection = this.projection;
    await this.readAhead(first, (value) => {
      if (value !== undefined) projection.scan(value);
    });
    this.mapping = this.projection.freeze();
    this.header = ['record'];
  }

  /**
   * Opens the JSON records of the first input and reads ahead — at most --scan-records records and
   * SCAN_BYTES — keeping the batches read (this.ahead, given out first by jsonBatches) and showing
   * each record's value to `scan`.
   */
  private async readAhead(first: Unit, scan: (value: JsonRec['value']) => void): Promise<void> {
    this.jsonIt = this.jsonRecords(first)[Symbol.asyncIterator]();
    let records = 0;
    let bytes = 0;
    while (records < this.cfg.scanRecords && bytes < SCAN_BYTES) {
      const n = await this.jsonIt.next();
      if (n.done === true) break;
      this.ahead.push(n.value);
      for (const r of n.value.recs) {
        records++;
        bytes += r.text?.length ?? 256;
        scan(r.value);
      }
    }
  }

  /** All records, in batches, up to --sample; then the units are closed. */
  async *batches(): AsyncGenerator<RecordBatch> {
    try {
      if (this.kind === 'csv') yield* this.csvBatches();
      else yield* this.jsonBatches();
    } finally {
      await this.csvUnit?.close();
      await this.jsonIt?.return?.(undefined);
      await this.units.return(undefined);
      await this.sources.close();
    }
  }

  private async *csvBatches(): AsyncGenerator<RecordBatch> {
    let unit: CsvUnit | undefined = this.csvFirst;
    let index = 0;
    while (unit !== undefined && this.remaining > 0) {
      this.csvUnit = unit;
      unit.limit = this.remaining;
      for await (const b of unit.batches()) {
        this.read += b.count;
        yield b;
      }
      if (this.remaining <= 0) break;
      const next = await this.nextUnit();
      if (next === undefined) break;
      unit = new CsvUnit(next, ++index, this.cfg, this.remaining);
      const header = await unit.readHeader();
      if (header === undefined)
        throw new BackfillError(
          'INPUT_MALFORMED',
          `the input "${next.name}" is empty: expected a header row`,
          'Check that the export finished writing, or leave the file out.',
        );
      if (header.map((h) => h.trim()).join(',') !== this.header.map((h) => h.trim()).join(',')) {
        throw new BackfillError(
          'BAD_HEADER',
          `the inputs do not share one header.\n${shown(this.names[0]!)}: ${shownList(this.header)}\n${shown(next.name)}: ${shownList(header)}`,
          'Transform files with different layouts in separate runs (each with its own --map).',
        );
      }
    }
  }

  /** Every JSON record of the units from `first` on, parsed, in batches per slice of input. */
  private async *jsonRecords(first: Unit): AsyncGenerator<{ unit: number; recs: JsonRec[] }> {
    let unit: Unit | undefined = first;
    let index = 0;
    while (unit !== undefined) {
      const u: Unit = unit;
      if (u.empty === true) {
        // no records
      } else if (u.format === 'parquet') {
        const { parquetRowGroups } = await import('../input/parquet.js');
        for await (const g of parquetRowGroups(u.path!, u.name)) {
          for (let at = 0; at < g.rows.length; at += PARQUET_BATCH) {
            const recs: JsonRec[] = [];
            const end = Math.min(g.rows.length, at + PARQUET_BATCH);
            for (let i = at; i < end; i++) recs.push({ line: g.firstRow + i, text: undefined, value: g.rows[i] as JsonValue, error: undefined });
            yield { unit: index, recs };
          }
        }
      } else {
        let recs: JsonRec[] = [];
        const onText = (text: string, line: number) => {
          if (text.trim() === '') recs.push({ line, text, value: undefined, error: { kind: 'dropped', reason: 'blank_line' } });
          else {
            const p = parseJson(text);
            if (!p.ok) recs.push({ line, text, value: undefined, error: { kind: 'rejected', reason: 'bad_json', message: `not valid JSON: ${p.message}` } });
            else recs.push({ line, text, value: p.value, error: undefined });
          }
        };
        const onTooLarge = (head: string, bytes: number, line: number) => {
          recs.push({
            line,
            text: `${head}…`,
            value: undefined,
            error: {
              kind: 'rejected',
              reason: 'record_too_large',
              message: `the record is ${bytes} bytes, larger than --max-record-bytes ${this.cfg.maxRecordBytes}`,
            },
          });
        };
        const splitter =
          u.format === 'ndjson'
            ? new NdjsonSplitter(onText, onTooLarge, this.cfg.maxRecordBytes)
            : new JsonArraySplitter(onText, onTooLarge, this.cfg.maxRecordBytes, u.name);
        for await (const chunk of u.chunks!) {
          for (let at = 0; at < chunk.length; at += JSON_SLICE) {
            splitter.write(at === 0 && chunk.length <= JSON_SLICE ? chunk : chunk.subarray(at, at + JSON_SLICE));
            if (recs.length > 0) {
              yield { unit: index, recs };
              recs = [];
            }
          }
        }
        splitter.end();
        if (recs.length > 0) yield { unit: index, recs };
      }
      unit = await this.nextUnit();
      index++;
    }
  }

  private async *jsonBatches(): AsyncGenerator<RecordBatch> {
    const projection = this.projection;
    const it = this.jsonIt!;
    for (;;) {
      if (this.remaining <= 0) return;
      let next = this.ahead.shift();
      if (next === undefined) {
        const n = await it.next();
        if (n.done === true) return;
        next = n.value;
      }
      const recs = next.recs.length > this.remaining ? next.recs.slice(0, this.remaining) : next.recs;
      const b: RecordBatch = {
        unit: next.unit,
        count: recs.length,
        fields: new Array(recs.length),
        lines: new Array(recs.length),
        shown: new Array(recs.length),
        pre: new Array(recs.length),
      };
      const users = this.usersProjection;
      if (users !== undefined) b.users = new Array(recs.length);
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i]!;
        b.lines[i] = r.line;
        b.shown![i] = [r.text ?? stringifyJson(r.value)];
        b.fields[i] = EMPTY;
        if (r.error !== undefined) b.pre![i] = r.error;
        else if (!isJsonObject(r.value)) b.pre![i] = { kind: 'rejected', reason: 'bad_json', message: `expected a JSON object, found ${jsonKind(r.value)}` };
        else if (users !== undefined) b.users![i] = users.project(r.value);
        else {
          const f = projection!.project(r.value);
          if (f === 'not_track') b.pre![i] = { kind: 'dropped', reason: 'not_track' };
          else if (Array.isArray(f)) b.fields[i] = f;
          else b.pre![i] = f; // a user id that is not a string or an integer
        }
      }
      this.read += b.count;
      yield b;
    }
  }
}

const EMPTY: string[] = [];

/**
 * --kind users: the events' mapping shape, for what reads it besides the row step (summary.json
 * `config.mapping` and `leftOutColumns`, the report's start): no event, time or parameter columns.
 */
function usersMapping(width: number, userId: number, columns: Record<string, string>, leftOut: string[]): ResolvedMapping {
  return {
    layout: { width, userId, event: -1, time: -1, value: -1, currencyCode: -1, count: -1, first: -1, last: -1, dedupe: -1, params: [] },
    outputHeader: [],
    columns,
    leftOut,
  };
}

/** One CSV unit: RecordReader fed in slices; the first record is the unit's header. */
class CsvUnit {
  private readonly reader: RecordReader;
  private fields: string[][] = [];
  private lines: number[] = [];
  private header: string[] | undefined;
  private it: AsyncIterator<Buffer>;
  private chunk: Buffer | undefined;
  private at = 0;
  private ended = false;

  constructor(
    private readonly u: Unit,
    private readonly index: number,
    cfg: InputConfig,
    limit: number,
  ) {
    this.reader = new RecordReader(
      (f, line) => {
        if (this.header === undefined) this.header = f;
        else {
          this.fields.push(f);
          this.lines.push(line);
        }
      },
      { delimiter: cfg.delimiter, maxRecordBytes: cfg.maxRecordBytes, name: u.name, fastPath: cfg.fastPath },
    );
    this.limit = limit;
    this.it = u.chunks![Symbol.asyncIterator]();
  }

  /** data records to hand over at most (--sample) */
  set limit(n: number) {
    this.reader.limit = n === Infinity ? Infinity : 1 + n;
  }

  /** Feeds one slice (or ends the reader); false when the input is done. */
  private async pump(): Promise<boolean> {
    if (this.ended || this.reader.records >= this.reader.limit) return false;
    if (this.chunk === undefined || this.at >= this.chunk.length) {
      const n = await this.it.next();
      if (n.done === true) {
        this.reader.end();
        this.ended = true;
        this.u.fact.delimiter = this.reader.delimiter ?? ',';
        return true;
      }
      this.chunk = n.value;
      this.at = 0;
    }
    const c = this.chunk;
    this.reader.write(this.at === 0 && c.length <= SLICE ? c : c.subarray(this.at, this.at + SLICE));
    this.at += SLICE;
    this.u.fact.delimiter = this.reader.delimiter ?? ',';
    return true;
  }

  /** Stops reading (--sample reached): the input stream is released. */
  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }

  async readHeader(): Promise<string[] | undefined> {
    while (this.header === undefined && (await this.pump()));
    return this.header;
  }

  async *batches(): AsyncGenerator<RecordBatch> {
    for (;;) {
      if (this.fields.length > 0) {
        const b: RecordBatch = { unit: this.index, count: this.fields.length, fields: this.fields, lines: this.lines, shown: undefined, pre: undefined };
        this.fields = [];
        this.lines = [];
        yield b;
      }
      if (!(await this.pump())) {
        if (this.fields.length > 0) continue;
        return;
      }
    }
  }
}
