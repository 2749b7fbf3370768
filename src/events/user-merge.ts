// `--kind users` (issue 19): several records of one user → the values sent for that user. Pure.
//
// The rule (docs/kinds.md, "users"): for every attribute and field, the value of the LATEST record
// that has one wins. "Latest" compares, in this order:
// 1. the time: the attribute's own time where the input times each value (GA4's
//    set_timestamp_micros, `attributeTimes`), else the record's time; a record without a time is
//    older than every record with one (a value known to be from a moment beats one whose moment is
//    unknown);
// 2. the vendor's version (`version`, PostHog's person_version…), element by element; none is oldest;
// 3. the input position: later in the input is later.
// An empty value (null, '', []) sets nothing: it never clears what an older record set and is not
// sent. With --clear-empty, an empty attribute value is a clear: it wins over older values like any
// value, and a later value wins over it. Fields (created, lastActive, locale…) are never cleared.
// The fold compares keys, so the order it is fed in does not change the result; the transform feeds
// the records sorted by (userId, time, input position), one user at a time, so memory holds one
// user, never all of them.
import type { UserField, UserRecord, UserValue } from '../model/user-record.js';
import { isEmptyValue } from './user-cells.js';

/** The values to send for one user. */
export interface MergedUser {
  userId: string;
  fields: Partial<Record<UserField, UserValue>>;
  /** attribute → value; `null` is a clear (only with --clear-empty) */
  attributes: Record<string, UserValue>;
  /** the records merged */
  records: number;
}

/** A record with its place in the input (0, 1, 2… over all inputs), the last tie-breaker. */
export interface PlacedRecord {
  record: UserRecord;
  position: number;
}

const NO_VERSION: readonly number[] = [];

/** Is (t1, v1, p1) later than (t2, v2, p2)? Times: undefined is the oldest; versions: none is the oldest. */
export function isLater(t1: number | undefined, v1: readonly number[], p1: number, t2: number | undefined, v2: readonly number[], p2: number): boolean {
  const a = t1 ?? Number.NEGATIVE_INFINITY;
  const b = t2 ?? Number.NEGATIVE_INFINITY;
  if (a !== b) return a > b;
  const n = Math.max(v1.length, v2.length);
  for (let i = 0; i < n; i++) {
    const x = v1[i] ?? Number.NEGATIVE_INFINITY;
    const y = v2[i] ?? Number.NEGATIVE_INFINITY;
    if (x !== y) return x > y;
  }
  return p1 > p2;
}

/** The order of whole records (record time, version, position): negative when a is older. */
export function olderFirst(a: PlacedRecord, b: PlacedRecord): number {
  const av = a.record.version ?? NO_VERSION;
  const bv = b.record.version ?? NO_VERSION;
  if (isLater(a.record.time, av, a.position, b.record.time, bv, b.position)) return 1;
  if (isLater(b.record.time, bv, b.position, a.record.time, av, a.position)) return -1;
  return 0;
}

interface Winner {
  value: UserValue;
  time: number | undefined;
  version: readonly number[];
  position: number;
}

/** Folds one user's records (in any order); finish() gives the merged values. */
export class UserFold {
  private userId: string | undefined;
  private fields = new Map<UserField, Winner>();
  private attributes = new Map<string, Winner>();
  private count = 0;

  constructor(private readonly clearEmpty: boolean) {}

  /** The user being folded, if any. */
  get current(): string | undefined {
    return this.userId;
  }

  add(record: UserRecord, position: number): void {
    if (this.userId === undefined) this.userId = record.userId;
    else if (record.userId !== this.userId) throw new Error(`UserFold: record of ${record.userId} while folding ${this.userId}`);
    this.count++;
    const version = record.version ?? NO_VERSION;
    for (const k in record.fields) {
      const v = record.fields[k as UserField];
      if (!isEmptyValue(v)) offer(this.fields, k as UserField, v!, record.time, version, position);
    }
    const times = record.attributeTimes;
    for (const k in record.attributes) {
      const v = record.attributes[k]!;
      const empty = isEmptyValue(v);
      if (empty && !this.clearEmpty) continue;
      offer(this.attributes, k, empty ? null : v, times?.[k] ?? record.time, version, position);
    }
  }

  /** The merged user, and a fresh fold for the next one. Attributes in the order first seen. */
  finish(): MergedUser {
    if (this.userId === undefined) throw new Error('UserFold: finish() without a record');
    const fields: Partial<Record<UserField, UserValue>> = {};
    for (const [k, w] of this.fields) fields[k] = w.value;
    const attributes = Object.create(null) as Record<string, UserValue>;
    for (const [k, w] of this.attributes) attributes[k] = w.value;
    const out: MergedUser = { userId: this.userId, fields, attributes, records: this.count };
    this.userId = undefined;
    this.fields = new Map();
    this.attributes = new Map();
    this.count = 0;
    return out;
  }
}

function offer<K>(m: Map<K, Winner>, k: K, value: UserValue, time: number | undefined, version: readonly number[], position: number): void {
  const w = m.get(k);
  if (w === undefined) m.set(k, { value, time, version, position });
  else if (isLater(time, version, position, w.time, w.version, w.position)) {
    w.value = value;
    w.time = time;
    w.version = version;
    w.position = position;
  }
}

/**
 * Every user's merged values, in userId order (code points), from records in any order. Holds
 * everything in memory: for tests and small inputs; the transform streams the sorted records
 * through UserFold instead.
 */
export function mergeUserRecords(records: readonly PlacedRecord[], clearEmpty: boolean): MergedUser[] {
  const sorted = [...records].sort((a, b) => (a.record.userId !== b.record.userId ? (a.record.userId < b.record.userId ? -1 : 1) : a.position - b.position));
  const out: MergedUser[] = [];
  const fold = new UserFold(clearEmpty);
  for (const r of sorted) {
    if (fold.current !== undefined && fold.current !== r.record.userId) out.push(fold.finish());
    fold.add(r.record, r.position);
  }
  if (fold.current !== undefined) out.push(fold.finish());
  return out;
}
