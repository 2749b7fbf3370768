import type { KeptRow } from '../events/row.js';
import type { DropReason, RejectReason } from '../events/reasons.js';
import type { RowObserver } from '../transform/row-observer.js';
import { DAY, type TimeRule } from '../time/clamp.js';
import { DecimalSum } from '../events/decimal.js';
import { DistinctCounter } from './hll.js';
import { EXAMPLE_FIELD_CHARS, EXAMPLE_FIELDS } from '../model/report.js';

const CLAMPED_SAMPLE = 50;
const ROWS_PER_REASON = 5;
const MAX_EVENTS = 2000;

export interface EventStats {
  occurrences: number;
  clamped: number;
  olderThan7d: number;
  /** exact sums of the value strings, never floating point */
  valueByCurrency: Map<string, DecimalSum>;
}
export interface ClampedSample {
  file: string;
  line: number;
  userId: string;
  event: string;
  originalTime: number;
  newTime: number;
}
export interface ExampleRow {
  file: string;
  line: number;
  message: string;
  values: string[];
}

const DROP_MESSAGE: Readonly<Record<DropReason, string>> = {
  blank_line: 'blank line',
  zero_count: 'count is 0',
  duplicate: 'repeats an earlier row (same dedupe key)',
  not_track: 'not a track call',
  other_shard: "belongs to another shard's users (--shard)",
  nothing_to_set: 'sets nothing (every value empty; --kind users)',
  not_profile: 'not a people record (--kind users)',
  deleted: 'the person is marked deleted (--kind users)',
};

const clip = (s: string) => (s.length > EXAMPLE_FIELD_CHARS ? s.slice(0, EXAMPLE_FIELD_CHARS) + '…' : s);

/**
 * Everything the preview report shows, gathered while streaming in memory that does not grow
 * with the input: fixed-size histograms, capped tables, a reservoir sample and a distinct counter.
 */
export class ReportCollector implements RowObserver {
  header: readonly string[] = [];
  /** day-indexed counts since `firstDay` */
  private readonly firstDay: number;
  readonly inputByDay: Uint32Array;
  readonly outputByDay: Uint32Array;
  readonly events = new Map<string, EventStats>();
  otherEvents = 0;
  readonly clampedSample: ClampedSample[] = [];
  private clampedSeen = 0;
  readonly rejectedExamples = new Map<RejectReason, ExampleRow[]>();
  readonly droppedExamples = new Map<DropReason, ExampleRow[]>();
  readonly users = new DistinctCounter();
  maxCount = 0;
  rowsWithLargeCount = 0;
  private rng = 0x9e3779b9;

  constructor(private readonly rule: TimeRule) {
    this.firstDay = Math.floor(rule.minTime / DAY);
    const days = Math.floor((rule.importAt + rule.futureTolerance) / DAY) - this.firstDay + 1;
    this.inputByDay = new Uint32Array(Math.max(1, days));
    this.outputByDay = new Uint32Array(Math.max(1, days));
  }

  /** the epoch day (seconds / 86400) of index 0 of the per-day counts */
  get firstEpochDay(): number {
    return this.firstDay;
  }

  dayStart(index: number): number {
    return (this.firstDay + index) * DAY;
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.rng = x;
    return x / 4294967296;
  }

  start(header: readonly string[]): void {
    this.header = header;
  }

  kept(row: KeptRow, line: number, file: string): void {
    let stats = this.events.get(row.event);
    if (stats === undefined) {
      if (this.events.size >= MAX_EVENTS) this.otherEvents += row.occurrences.length;
      else this.events.set(row.event, (stats = { occurrences: 0, clamped: 0, olderThan7d: 0, valueByCurrency: new Map() }));
    }
    const n = row.occurrences.length;
    if (n > this.maxCount) this.maxCount = n;
    if (n >= 1000) this.rowsWithLargeCount++;
    this.users.add(row.userId);
    const analyticsLine = this.rule.importAt - 7 * DAY;
    let clampedHere = false;
    for (const o of row.occurrences) {
      this.inputByDay[Math.floor(o.original / DAY) - this.firstDay]!++;
      this.outputByDay[Math.floor(o.time / DAY) - this.firstDay]!++;
      if (stats !== undefined) {
        stats.occurrences++;
        if (o.change === 'clamped') stats.clamped++;
        if (o.time < analyticsLine) stats.olderThan7d++;
      }
      if (o.change === 'clamped') clampedHere = true;
    }
    if (stats !== undefined && row.value !== '') {
      const cur = row.currencyCode === '' ? '(no currency)' : row.currencyCode;
      let sum = stats.valueByCurrency.get(cur);
      if (sum === undefined) stats.valueByCurrency.set(cur, (sum = new DecimalSum()));
      // a total split by --value-is-total: the last occurrences carry one unit more (row.valueLast)
      const last = row.valueLast;
      if (last === undefined) sum.add(row.value, n);
      else {
        sum.add(row.value, last.from);
        sum.add(last.value, n - last.from);
      }
    }
    if (clampedHere) {
      const o = row.occurrences.find((x) => x.change === 'clamped')!;
      const sample = { file, line, userId: clip(row.userId), event: clip(row.event), originalTime: o.original, newTime: o.time };
      this.clampedSeen++;
      if (this.clampedSample.length < CLAMPED_SAMPLE) this.clampedSample.push(sample);
      else {
        const j = Math.floor(this.random() * this.clampedSeen);
        if (j < CLAMPED_SAMPLE) this.clampedSample[j] = sample;
      }
    }
  }

  /** Called once, before the report is built. (The billable lookups are counted by the writers: summary.cost.) */
  finish(): void {
    this.clampedSample.sort((a, b) => a.line - b.line);
  }

  private example<K>(into: Map<K, ExampleRow[]>, key: K, fields: readonly string[], file: string, line: number, message: string): void {
    let list = into.get(key);
    if (list === undefined) into.set(key, (list = []));
    if (list.length < ROWS_PER_REASON) list.push({ file, line, message, values: fields.slice(0, EXAMPLE_FIELDS).map(clip) });
  }

  rejected(fields: readonly string[], line: number, reason: RejectReason, message: string, file: string): void {
    this.example(this.rejectedExamples, reason, fields, file, line, message);
  }

  dropped(fields: readonly string[], line: number, reason: DropReason, file: string): void {
    this.example(this.droppedExamples, reason, fields, file, line, DROP_MESSAGE[reason]);
  }
}
