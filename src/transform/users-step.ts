// `--kind users` (issue 19): the row step of one input record. A CSV row (through the header's
// layout) or a JSON record (already projected by the input side) becomes a raw user record, the
// rules settle it (events/user-rules.ts), and a kept record is counted and handed to the sort by
// (userId, time, position); the per-user fold (users-fold.ts) merges it at the output.
import type { DropReason, RejectReason } from '../events/reasons.js';
import { ShardFilter } from '../events/shard.js';
import { settleUserRecord, type UserRecordOptions } from '../events/user-rules.js';
import { csvUserRecord } from '../input/user-mapping.js';
import type { RawUserResult } from '../model/user-record.js';
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
): (fields: readonly string[], projected: RawUserResult | undefined, unit: number, line: number) => UserDecision {
  const opts: UserRecordOptions = { timeFormat: cfg.timeFormat, zone: cfg.zone, epochZone: cfg.sourceTz, clearEmpty: cfg.users?.clearEmpty ?? false };
  const shard = cfg.shard === undefined ? undefined : new ShardFilter(cfg.shard);
  const leftOut = fold.noteLeftOut.bind(fold);
  let position = 0;
  return (fields, projected, unit, line) => {
    const raw = projected ?? csvUserRecord(fields, input.usersLayout!);
    if ('kind' in raw) return raw;
    // another shard's record is left out before its values are looked at (and counted)
    const id = raw.userId;
    if (shard !== undefined && (typeof id === 'string' || typeof id === 'number') && id !== '' && !shard.keeps(String(id)))
      return { kind: 'dropped', reason: 'other_shard' };
    const r = settleUserRecord(raw, opts, leftOut);
    if (r.kind !== 'kept') return r;
    const rec = r.record;
    tally.kept++;
    tally.occurrences++;
    if (r.naive === true) tally.naiveRows++;
    fold.see(rec);
    const wait = output.addRecord(rec.userId, rec.time ?? Number.NEGATIVE_INFINITY, fold.payload(rec, position++), unit, line);
    return wait === undefined ? SORTED : { kind: 'sorted', wait };
  };
}
