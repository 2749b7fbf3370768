// `--kind users` (issue 19): the row step of one input record. A CSV row (through the header's
// layout) or a JSON record (already projected by the input side) becomes a raw user record, the
// rules settle it (events/user-rules.ts), and a kept record is counted and handed to the sort by
// (userId, time, position); the per-user fold (users-fold.ts) merges it at the output.
import type { DropReason, RejectReason } from '../events/reasons.js';
import { ShardFilter } from '../events/shard.js';
import { settleUserRecord, type UserRecordOptions } from '../events/user-rules.js';
import { csvUserRecord } from '../input/user-mapping.js';
import type { ProjectedUsers, RawUserRecord, UserRecord } from '../model/user-record.js';
import type { Tally } from './tally.js';
import type { TransformConfig } from './transform-config.js';
import type { TransformInput } from './transform-input.js';
import type { TransformOutput } from './transform-output.js';
import type { UsersFold } from './users-fold.js';

/** What the step decided: kept and sorted (await `wait` when it is a promise), or refused or left out with a reason. */
export type UserDecision =
  | { kind: 'sorted'; wait: Promise<void> | undefined }
  | { kind: 'rejected'; reason: RejectReason; message: string }
  | { kind: 'dropped'; reason: DropReason };

const SORTED: { kind: 'sorted'; wait: undefined } = { kind: 'sorted', wait: undefined };

/** The users row step: (CSV fields | projected JSON record) → a decision; counts kept records in the tally. */
export function makeUsersStep(
  cfg: TransformConfig,
  input: TransformInput,
  output: TransformOutput,
  fold: UsersFold,
  tally: Tally,
): (fields: readonly string[], projected: ProjectedUsers | undefined, unit: number, line: number) => UserDecision {
  const opts: UserRecordOptions = { timeFormat: cfg.timeFormat, zone: cfg.zone, epochZone: cfg.sourceTz, clearEmpty: cfg.users?.clearEmpty ?? false };
  const shard = cfg.shard === undefined ? undefined : new ShardFilter(cfg.shard);
  const leftOut = fold.noteLeftOut.bind(fold);
  let position = 0;
  const shardKeeps = (raw: RawUserRecord): boolean => {
    const id = raw.userId;
    return shard === undefined || !((typeof id === 'string' || typeof id === 'number') && id !== '' && !shard.keeps(String(id)));
  };
  const sort = (rec: UserRecord, unit: number, line: number): Promise<void> | undefined => {
    tally.occurrences++;
    fold.see(rec);
    return output.addRecord(rec.userId, rec.time ?? Number.NEGATIVE_INFINITY, fold.payload(rec, position++), unit, line);
  };
  return (fields, projected, unit, line) => {
    const raw = projected ?? csvUserRecord(fields, input.usersLayout!);
    if (Array.isArray(raw)) return several(raw, unit, line);
    if ('kind' in raw) return raw;
    // another shard's record is left out before its values are looked at (and counted)
    if (!shardKeeps(raw as RawUserRecord)) return { kind: 'dropped', reason: 'other_shard' };
    const r = settleUserRecord(raw as RawUserRecord, opts, leftOut);
    if (r.kind !== 'kept') return r;
    tally.kept++;
    if (r.naive === true) tally.naiveRows++;
    const wait = sort(r.record, unit, line);
    return wait === undefined ? SORTED : { kind: 'sorted', wait };
  };

  /**
   * One input record that is several users (a PostHog person from the API, one per distinct id):
   * one kept row, one occurrence per user. Ids of another shard are left out; none left: dropped
   * as other_shard. One user the rules refuse refuses the record whole (nothing sorted).
   */
  function several(raws: readonly RawUserRecord[], unit: number, line: number): UserDecision {
    const mine = raws.filter(shardKeeps);
    if (mine.length === 0) return { kind: 'dropped', reason: 'other_shard' };
    const recs: UserRecord[] = [];
    let naive = false;
    for (const raw of mine) {
      const r = settleUserRecord(raw, opts, leftOut);
      if (r.kind !== 'kept') return r;
      naive ||= r.naive === true;
      recs.push(r.record);
    }
    tally.kept++;
    if (naive) tally.naiveRows++;
    // one at a time, as for one record a row: the next waits for the sort's wait of the one before
    let wait: Promise<void> | undefined;
    for (const rec of recs) wait = wait === undefined ? sort(rec, unit, line) : wait.then(() => sort(rec, unit, line));
    return wait === undefined ? SORTED : { kind: 'sorted', wait };
  }
}
