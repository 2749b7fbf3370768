import { BackfillError } from '../errors.js';
import { DecimalSum } from '../events/decimal.js';
import type { KeptRow } from '../events/row.js';
import { MAX_EVENT_NAMES, totalsColumns, type ColumnSpec } from '../model/kinds.js';
import type { TotalsStats } from '../model/summary.js';
import { csvField } from './csv-line.js';
import type { UserFold } from './user-fold.js';

/** Event names remembered while reading, at most: beyond, the count says "more than". */
const NAMES_TRACKED = 100_000;

/** Upper bounds of the occurrences-per-user buckets of the report (the last is open). */
export const OCCURRENCE_BUCKETS = [1, 10, 100, 1000, 10_000] as const;

/**
 * --kind totals: one row per user with, for each event the user has, `count`, `firstTime`,
 * `lastTime` (epoch seconds, after the time rule: a clamped time is written as it is imported)
 * and `value` (the exact decimal sum of the values written for its occurrences; empty when none of
 * them had a value). Folded from the user-ordered stream (user-fold.ts): the records of one user
 * come in (time, position) order, so the first occurrence added is the first time, the last the
 * last time. Only the current user's cells are held; across users only the event names.
 */
export class TotalsFold implements UserFold {
  /** distinct event names of the kept rows, in order of appearance (at most NAMES_TRACKED) */
  private readonly names = new Set<string>();
  private namesOverTracked = false;
  /** after columns(): the event names in code-point order and their index */
  private index = new Map<string, number>();
  private count = new Float64Array(0);
  private first = new Float64Array(0);
  private last = new Float64Array(0);
  private firstClamped = new Uint8Array(0);
  private lastClamped = new Uint8Array(0);
  private sums: (DecimalSum | undefined)[] = [];
  /** event indices the current user has, in order of appearance */
  private touched: number[] = [];
  private occurrencesOfUser = 0;
  private userHasClamped = false;
  folded = 0;
  /** user ids that needed quotes (the other cells are numbers) */
  quoted = 0;
  readonly stats: TotalsStats = {
    eventNames: 0,
    users: 0,
    cells: 0,
    occurrencesPerUser: {
      min: 0,
      max: 0,
      mean: 0,
      buckets: [...OCCURRENCE_BUCKETS.map((upTo): { upTo: number | null; users: number } => ({ upTo, users: 0 })), { upTo: null, users: 0 }],
    },
    clampedFirstTimes: 0,
    clampedLastTimes: 0,
    usersWithClampedTimes: 0,
  };

  /** Remembers the event name of a kept row (before --dedupe: a duplicate has its original's name). */
  seeRow(row: KeptRow): void {
    if (this.names.has(row.event)) return;
    if (this.names.size < NAMES_TRACKED) this.names.add(row.event);
    else this.namesOverTracked = true;
  }

  /** After the read, before anything is written: at most MAX_EVENT_NAMES names (Leanplum's per-app limit). */
  endOfRead(): void {
    if (this.names.size <= MAX_EVENT_NAMES) return;
    const count = this.namesOverTracked ? `more than ${NAMES_TRACKED}` : String(this.names.size);
    const sample = [...this.names].slice(MAX_EVENT_NAMES, MAX_EVENT_NAMES + 3).map((n) => JSON.stringify(n));
    throw new BackfillError(
      'INPUT_MALFORMED',
      `--kind totals: the kept rows have ${count} distinct event names; Leanplum keeps at most ${MAX_EVENT_NAMES} per app, so the totals file would have events Leanplum cannot hold (past the ${MAX_EVENT_NAMES}th name, in order of appearance: ${sample.join(', ')}, …)`,
      'Nothing was written. Import fewer event names: split the export by event and keep the ones you need (or map several names to one before the import); the events kind (--kind events) has the same per-app limit.',
    );
  }

  occurrencePayload(row: KeptRow, i: number): string {
    const o = row.occurrences[i]!;
    const value = row.valueLast !== undefined && i >= row.valueLast.from ? row.valueLast.value : row.value;
    return `${o.change === 'clamped' ? 1 : 0}\t${value}\t${row.event}`;
  }

  columns(): ColumnSpec[] {
    const columns = totalsColumns(this.names);
    const sorted = [...new Set(this.names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.index = new Map(sorted.map((n, i) => [n, i]));
    const n = sorted.length;
    this.count = new Float64Array(n);
    this.first = new Float64Array(n);
    this.last = new Float64Array(n);
    this.firstClamped = new Uint8Array(n);
    this.lastClamped = new Uint8Array(n);
    this.sums = new Array(n).fill(undefined);
    this.stats.eventNames = n;
    return columns;
  }

  add(_userId: string, time: number, payload: string): void {
    const clamped = payload.charCodeAt(0) === 49; // '1'
    const tab = payload.indexOf('\t', 2);
    const value = payload.slice(2, tab);
    const k = this.index.get(payload.slice(tab + 1))!;
    if (this.count[k] === 0) {
      this.touched.push(k);
      this.first[k] = time;
      this.firstClamped[k] = clamped ? 1 : 0;
    }
    this.count[k]!++;
    this.last[k] = time;
    this.lastClamped[k] = clamped ? 1 : 0;
    if (value !== '') {
      let sum = this.sums[k];
      if (sum === undefined) this.sums[k] = sum = new DecimalSum();
      // the row step accepted it as a number, and the sum reads the same syntax
      if (!sum.add(value)) throw new Error(`totals: value ${JSON.stringify(value)} is not a decimal`);
    }
    this.occurrencesOfUser++;
    if (clamped) this.userHasClamped = true;
  }

  end(userId: string): string {
    const touched = this.touched.sort((a, b) => a - b);
    const cell = csvField(userId);
    if (cell !== userId) this.quoted++;
    let line = cell;
    let next = 0;
    for (const k of touched) {
      if (k > next) line += ',,,,'.repeat(k - next);
      const sum = this.sums[k];
      line += `,${this.count[k]},${this.first[k]},${this.last[k]},${sum === undefined ? '' : sum.toString()}`;
      this.folded += this.count[k]!;
      this.stats.clampedFirstTimes += this.firstClamped[k]!;
      this.stats.clampedLastTimes += this.lastClamped[k]!;
      this.count[k] = 0;
      this.sums[k] = undefined;
      next = k + 1;
    }
    if (this.index.size > next) line += ',,,,'.repeat(this.index.size - next);
    const s = this.stats;
    const n = this.occurrencesOfUser;
    s.cells += touched.length;
    s.occurrencesPerUser.min = s.users === 0 ? n : Math.min(s.occurrencesPerUser.min, n);
    s.occurrencesPerUser.max = Math.max(s.occurrencesPerUser.max, n);
    s.users++;
    s.occurrencesPerUser.mean = this.folded / s.users;
    const bucket = OCCURRENCE_BUCKETS.findIndex((upTo) => n <= upTo);
    s.occurrencesPerUser.buckets[bucket === -1 ? OCCURRENCE_BUCKETS.length : bucket]!.users++;
    if (this.userHasClamped) s.usersWithClampedTimes++;
    this.touched = [];
    this.occurrencesOfUser = 0;
    this.userHasClamped = false;
    return line + '\n';
  }
}
