/** Stable reason codes written to rejects.csv and summary.json. */
export const REJECT_REASONS = [
  'ragged_row',
  'missing_user_id',
  'bad_user_id',
  'missing_event',
  'bad_event_name',
  'bad_time',
  'implausible_time',
  'future_time',
  'bad_value',
  'bad_currency',
  'bad_count',
  'bad_json',
  'record_too_large',
  // --kind totals: events.<name>.count would nest one level deeper at the dot (model/kinds.ts)
  'dot_in_event_name',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const DROP_REASONS = [
  'blank_line',
  'zero_count',
  'duplicate',
  'not_track',
  'other_shard',
  // --kind users (model/user-record.ts USER_DROP_REASONS): a record that sets nothing, no people record, a deleted person
  'nothing_to_set',
  'not_profile',
  'deleted',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
