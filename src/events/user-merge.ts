// `--kind users` (issue 19): several records of one user → the values sent for that user. Pure.
//
// The rule (docs/kinds.md, "users"):
// - Records are applied oldest first: records without a time first, in input order, then records
//   with a time by their time, records of the same time in input order. For every attribute and
//   field, the value of the last record applied that has one wins ("the latest value wins").
//   A record without a time is older than every record with one: a value known to be from a moment
//   beats one whose moment is unknown.
// - An empty value (null, '', []) sets nothing: it never clears what an older record set and is not
//   sent. With --clear-empty, an empty attribute value is a clear: it wins over older values like
//   any value, and a later value wins over it. Fields (created, lastActive, locale…) are never
//   cleared.
// The transform feeds the records sorted by (userId, time, input position) through UserFold, one
// user at a time, so memory holds one user, never all of them.
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

/** A record with its place in the input (0, 1, 2… over all inputs), the tie-breaker. */
export interface PlacedRecord {
  record: UserRecord;
  position: number;
}

/** The order records are applied in: time (none first), then input position. Same user assumed. */
export function olderFirst(a: PlacedRecord, b: PlacedRecord): number {
  const ta = a.record.time ?? -Infinity;
  const tb = b.record.time ?? -Infinity;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.position - b.position;
}

/** Folds one user's records, given oldest first (olderFirst); finish() gives the merged values. */
export class UserFold {
  private userId: string | undefined;
  private fields: Partial<Record<UserField, UserValue>> = {};
  private attributes: Record<string, UserValue> = Object.create(null) as Record<string, UserValue>;
  private count = 0;

  constructor(private readonly clearEmpty: boolean) {}

  /** The user being folded, if any. */
  get current(): string | undefined {
    return this.userId;
  }

  add(record: UserRecord): void {
    if (this.userId === undefined) this.userId = record.userId;
    else if (record.userId !== this.userId) throw new Error(`UserFold: record of ${record.userId} while folding ${this.userId}`);
    this.count++;
    for (const k in record.fields) {
      const v = record.fields[k as UserField];
      if (!isEmptyValue(v)) this.fields[k as UserField] = v!;
    }
    for (const k in record.attributes) {
      const v = record.attributes[k]!;
      if (!isEmptyValue(v)) this.attributes[k] = v;
      else if (this.clearEmpty) this.attributes[k] = null;
    }
  }

  /** The merged user, and a fresh fold for the next one. */
  finish(): MergedUser {
    if (this.userId === undefined) throw new Error('UserFold: finish() without a record');
    const out: MergedUser = { userId: this.userId, fields: this.fields, attributes: { ...this.attributes }, records: this.count };
    this.userId = undefined;
    this.fields = {};
    this.attributes = Object.create(null) as Record<string, UserValue>;
    this.count = 0;
    return out;
  }
}

/**
 * Every user's merged values, in userId order (code points), from records in any order: sorts
 * (userId, then olderFirst) and folds. Holds everything in memory: for tests and small inputs; the
 * transform streams the sorted records through UserFold instead.
 */
export function mergeUserRecords(records: readonly PlacedRecord[], clearEmpty: boolean): MergedUser[] {
  const sorted = [...records].sort((a, b) => (a.record.userId !== b.record.userId ? (a.record.userId < b.record.userId ? -1 : 1) : olderFirst(a, b)));
  const out: MergedUser[] = [];
  const fold = new UserFold(clearEmpty);
  for (const r of sorted) {
    if (fold.current !== undefined && fold.current !== r.record.userId) out.push(fold.finish());
    fold.add(r.record);
  }
  if (fold.current !== undefined) out.push(fold.finish());
  return out;
}
